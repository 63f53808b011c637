// etcd, built from the etcd server module that k8s.io/kubernetes already depends on, so
// the control plane needs no download outside the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
