// Command jwt prints a user JWT signed with SURGE_JWT_SECRET (from
// .surge/env), for trying the API by hand.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/surgekit/surge/shared/auth"
)

func main() {
	user := flag.String("user", "alice", "the user id (the token's sub)")
	ttl := flag.Duration("ttl", time.Hour, "how long the token is valid")
	flag.Parse()
	secret := os.Getenv("SURGE_JWT_SECRET")
	if secret == "" {
		fmt.Fprintln(os.Stderr, "SURGE_JWT_SECRET is empty: run `. .surge/env` after make up")
		os.Exit(2)
	}
	tok, err := auth.SignUser([]byte(secret), *user, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tok)
}
