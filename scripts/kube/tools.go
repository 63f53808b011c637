//go:build tools

// Pins the control-plane and node commands into this module's dependency graph so `go mod tidy`
// keeps what `go build` of them needs.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	// The real node (build-node.sh).
	_ "k8s.io/kubernetes/cmd/kubelet"
)
