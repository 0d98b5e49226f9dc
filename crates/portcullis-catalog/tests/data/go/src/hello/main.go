// hello is a test binary whose embedded build information Portcullis reads.
package main

import (
	"fmt"

	"github.com/portcullis-scan/greeting"
)

var version = "(unset)"

func main() { fmt.Println(greeting.Hello("portcullis"), version) }
