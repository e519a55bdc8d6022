// Command noop does nothing. The VM test times its start next to
// mapehelper up's (issue 14, goal 5): built with the product's flags, it
// is the floor any Go binary pays on that machine before doing work (exec,
// the runtime's start-up), so "up = N x noop" can be read across arches
// and VMs whose absolute speed differs by an order of magnitude.
package main

func main() {}
