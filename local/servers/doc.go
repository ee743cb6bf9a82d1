// Package servers starts the real dependency servers Surge needs — Redis,
// PostgreSQL and MinIO — as child processes on free loopback ports, each in
// its own state directory, and stops them cleanly.
//
// It never touches a server already running on the machine: every port is
// picked fresh from the kernel and default ports are never used. Children
// die with the process that started them (Pdeathsig).
//
// `make up` keeps its state under .surge/ of the repository; tests use
// package servertest, which starts one Set per test package.
package servers
