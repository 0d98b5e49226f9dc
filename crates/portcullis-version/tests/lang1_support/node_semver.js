// Our npm answers' reference: node-semver, as npm uses it: strict parsing and no
// includePrerelease, the defaults of semver.satisfies(version, range).
const [semverDir, casesPath] = process.argv.slice(-2);
const semver = require(semverDir);
const cases = JSON.parse(require("fs").readFileSync(casesPath, "utf8"));

function compare(a, b) {
    if (semver.valid(a) === null || semver.valid(b) === null) return "error";
    return String(semver.compare(a, b));
}

function satisfies(version, range) {
    try {
        new semver.Range(range);
    } catch (error) {
        return "error";
    }
    if (semver.valid(version) === null) return "error";
    return String(semver.satisfies(version, range));
}

console.log(JSON.stringify({
    compare: cases.compare.map(([a, b]) => compare(a, b)),
    satisfies: cases.satisfies.map(([version, range]) => satisfies(version, range)),
}));
