// Package scale holds the scale tests of keygate's limiter (build tag
// scale, run by make scale-test): a real Redis Cluster and a Sentinel
// set-up started from the installed redis-server, three limiter replicas
// on each, a primary killed under a stream of requests. See README,
// "Running many replicas".
package scale
