# Our PEP 440 answers' reference: pypa/packaging, as pip uses it. Pre-releases count as
# matching, as in our `satisfies`: the version judged is already installed.
import json, sys
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

cases = json.load(open(sys.argv[1]))

def compare(a, b):
    try:
        a, b = Version(a), Version(b)
    except InvalidVersion:
        return "error"
    return "-1" if a < b else "1" if a > b else "0"

def satisfies(version, requirement):
    try:
        specifiers = SpecifierSet(requirement)
        version = Version(version)
    except (InvalidSpecifier, InvalidVersion):
        return "error"
    return "true" if specifiers.contains(version, prereleases=True) else "false"

print(json.dumps({
    "compare": [compare(a, b) for a, b in cases["compare"]],
    "satisfies": [satisfies(v, r) for v, r in cases["satisfies"]],
}))
