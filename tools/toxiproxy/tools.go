//go:build tools

// Package tools pins the command this module builds: Toxiproxy, the TCP fault proxy the
// API-fault tests put between the clients and the local API server.
package tools

import _ "github.com/Shopify/toxiproxy/v2/cmd/server"
