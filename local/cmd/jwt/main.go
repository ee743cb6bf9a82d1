// Command jwt prints a user JWT signed with SURGE_JWT_SECRET (from
// .surge/env), for trying the API by hand; -shadow signs a shadow user's
// ("shadow": true: load-test traffic, run on shadow state).
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
	shadow := flag.Bool("shadow", false, `a shadow user's token ("shadow": true), whose calls run on shadow state`)
	flag.Parse()
	secret := os.Getenv("SURGE_JWT_SECRET")
	if secret == "" {
		fmt.Fprintln(os.Stderr, "SURGE_JWT_SECRET is empty: run `. .surge/env` after make up")
		os.Exit(2)
	}
	tok, err := auth.Sign([]byte(secret), auth.Caller{User: *user, Shadow: *shadow}, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tok)
}
