// Package greeting is a stand-in dependency for the buildinfo test binaries.
package greeting

func Hello(name string) string { return "hello, " + name }
