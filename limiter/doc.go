// Package limiter decides whether one more request fits the rate limits of
// an id. It knows nothing of keys or HTTP: an id is any non-empty string,
// and a Limit is Count units of cost per sliding Window ("100/1s",
// "5000/1h"; see ParseLimit).
//
// Three implementations answer Allow(ctx, id, limits, cost):
//
//   - Memory keeps the counts in the process: one replica alone.
//   - Redis keeps them in Redis, shared by every replica: a Lua script
//     (allow.lua, run with EVALSHA, EVAL when Redis lacks it) checks and
//     counts all the windows of a request atomically, at the time of Redis's
//     own clock (TIME), so replicas whose clocks differ still agree. It
//     returns the counts it read and Redis's time, from which Go computes
//     the decision with decide, as Memory does. Concurrent calls share one
//     round trip (see Redis performance below).
//   - Fallback answers with Redis and, while Redis fails or is slower than
//     its timeout, with Memory; it tries Redis again every ProbeInterval
//     (250ms). After a failed call a Cluster client reloads its slot map
//     (reloadTopology), so that a replica follows a failover at once.
//
// AllowFailure limits failed authentications per client address with the
// same machinery.
//
// # Credits
//
// Credits are a usage quota (remaining uses, refilled each day or month;
// Refill, Period in refill.go). The durable balance is the Pool's (the
// database): a spender takes blocks of at most CreditsConfig.Lease credits
// from it (Pool.Take, which also applies the refill due, once per period,
// whichever replica asks first) and spends them one per request from a
// lease: MemoryCredits holds leases in the process, RedisCredits in Redis
// (credits.lua: one atomic script per spend at Redis's time, the hash
// "{<prefix>:<id>}:credits" in the slot of the id's limits), shared by
// every replica. Only the spend that finds the lease empty takes a block,
// and grants it in the same script run as its own spend. A lease carries
// the balance's epoch, which a refill or an administrator's change
// advances (Reclaim empties the lease into the balance first), so that a
// block is never added to a lease of another epoch.
//
// What this guarantees, exactly:
//
//   - No credit is granted twice: a block leaves the Pool before it can be
//     spent, and a lease lives in one place. N replicas spending one key's
//     last credits together spend exactly what there was.
//   - A keygate restart forgets nothing: with Redis, leases stay in Redis;
//     MemoryCredits.Close returns its leases to the Pool (a crash of the
//     one memory instance forgets what its leases held: at most Lease
//     credits per key).
//   - Redis losing its data (a restart without persistence, an eviction)
//     forgets what the leases held: at most Lease credits per key per
//     replica that took a block at the same moment (normally one). These
//     credits are lost to the key, never granted again.
//   - A Redis failover (Sentinel, Cluster) loses what the old primary
//     acknowledged but had not replicated: the spends in that window (a
//     few milliseconds of traffic, at most what the lease held) are
//     granted again, and a block granted in it is forgotten.
//   - A spend that Redis ran but whose reply came after the timeout
//     (KEYGATE_REDIS_TIMEOUT, on a saturated machine) is spent again from
//     the Pool by FallbackCredits: that request costs two credits, one of
//     them lost to the key, never granted twice.
//   - While Redis fails, FallbackCredits spends straight from the Pool,
//     one credit per transaction: still exact across replicas. A lease
//     left in Redis waits there. A block taken whose grant failed is kept
//     and granted at the next spend, once: each grant carries a token,
//     and the lease remembers the tokens of its last 32 grants.
//   - A refused spend of an exhausted lease asks the Pool again at most
//     once a second per lease (recheck), so that a client hammering an
//     exhausted key costs the database nothing more.
//
// # Algorithm
//
// A sliding-window counter: decide in decision.go, for Memory and Redis,
// and the check that a request fits, also in Lua (allow.lua) with the same
// integer arithmetic, for Redis to count it atomically. Time is now, in
// whole milliseconds since the Unix epoch. For a limit of Count per window
// W (in milliseconds; windows are whole seconds):
//
//	b       = floor(now / W)                  the current fixed window
//	e       = now - b*W                       elapsed in it, 0 <= e < W
//	weight  = floor((W - e) * S / W)          S = 1,000,000: the share of the previous window still inside the sliding one
//	prev    = count of fixed window b-1
//	curr    = count of fixed window b
//	used    = prev*weight + curr*S            requests in the sliding window, in millionths
//
// A request of cost c fits the limit when used + c*S <= Count*S. It is
// admitted only if it fits every limit, and then c is added to curr of every
// limit; a denied request is counted in none, so a client that keeps
// retrying above the limit recovers as soon as it slows down.
//
// After the decision (with curr including c when admitted), for each limit:
//
//	Remaining = floor((Count*S - used) / S), or 0 when that is negative
//	Reset     = 2W - e  if curr > 0             when every counted request has left the sliding window
//	          =  W - e  if curr = 0 and prev > 0
//	          =  0      otherwise
//
// RetryAfter is 0 for an admitted request; for a denied one it is the
// largest, over the limits, of the wait until the same request fits if
// nothing else is counted. Each limit's estimate only falls with time, so
// that is exactly when the request is admitted, to the millisecond. For a
// limit that does not fit, with firstElapsed(m) = max(W - ceil((m+1)*W/S)
// + 1, 0) the first elapsed time at which weight <= m (0 when m >= S):
//
//	slack = (Count - curr - c) * S
//	if slack >= 0 and firstElapsed(floor(slack/prev)) < W:
//	    wait = firstElapsed(floor(slack/prev)) - e          later in this fixed window
//	else:
//	    wait = W - e + firstElapsed(floor((Count-c)*S/curr)) in the next one, where curr becomes prev
//	          (W - e when curr = 0)
//
// Every intermediate value stays below 2^52: Count and cost are at most
// MaxCount (1e9), so used + c*S <= 3e15; W <= 744h = 2.68e9 ms, so
// (W - e)*S and (m+1)*W are at most 2.68e15; now is below 2^52 ms until the
// year 144,000. Lua's numbers are doubles, which represent such integers
// exactly, and floor of a correctly rounded quotient of integers below 2^52
// is exact; so Lua's fits is Go's, and Redis.Allow fails if they ever
// disagreed.
//
// Redis keys are "{<prefix>:<id>}:<window seconds>:<b>", holding curr of
// fixed window b, hash-tagged by id so that Redis Cluster keeps all of an
// id's keys in one slot. Each expires one second after the end of the next
// fixed window, when it no longer counts. Go names the keys of a request
// for its guess of Redis's time (the local clock plus the offset seen in
// the last reply), with the span of time for which they hold; when Redis's
// time is outside it, near the start of a fixed window, the script derives
// the right keys itself, so a wrong guess costs Redis a little CPU, never
// a wrong count. Memory holds, per id and window, the counts of the two
// most recent fixed windows, and forgets the id when all have expired; it
// matches Redis exactly while time does not go back by more than one
// window. It keys an id by its 64-bit maphash (seeded per Memory), in
// 32-bit fields (counts up to MaxCount, windows up to 31 days in ms, fixed
// windows numbered until 2106). An id of at most two limits takes 40
// bytes in a hash table outside Go's heap (internal/offheap), 47 to 67
// with the table's free slots (60 to 85 % full as it grows; it shrinks
// once under a quarter full). On the heap, in a Go map, it took 63, and
// as much again of the collector's headroom, since Go lets the heap grow
// by what is live before it collects. An id of more limits, a rare one,
// is on the heap, in a Go map.
//
// # Redis performance
//
// Under load, the cost of a decision is mostly Redis's CPU and the system
// calls of a round trip, so Redis sends concurrent calls together
// (pipeliner in pipeline.go): a call goes at once when no other round trip
// is in flight, or one is and no call waits; the others queue, and all go
// in the next round trip of one goroutine, in one allow.lua run that
// decides each as if alone, in turn. One run reads Redis TIME once, and for
// consecutive requests of one id reads each key once and writes it once.
// Calls that differ only in their contexts (one busy key's requests) are
// one entry of the script, their keys and limits sent once: the script
// says how many of the entry's m requests fit, and Go gives each its
// decision from that (see group and deliver in call.go). With a Cluster or
// Ring client, or when Redis refuses keys of several ids in one script
// (CROSSSLOT, as from a proxy in front of shards), each id has its own
// script, and the scripts share a pipeline. A call waits at most its
// timeout (or its context's deadline, if sooner) whether sent at once or
// queued; a queued call notices the cancellation of its context when its
// turn comes. allow.lua is written to spend little of Redis's CPU: see its
// header. It needs Redis 3.2 or later; from Redis 7, it skips
// redis.replicate_commands, which only 3.2 and 4 need.
//
// # Leases
//
// With RedisConfig.LeaseMax > 0, a replica decides most requests of a busy
// id alone. When allow.lua admits an entry with room to spare, it also
// leases the replica s more requests of that cost: s = min(LeaseMax,
// floor(free/8)), where free is how many more would fit now, and none if
// s < 2, so that near the limit every request goes to Redis as before. It
// counts them at once in curr of every limit, exactly as if s requests
// had been admitted, and records the lease in the hash
// "{<prefix>:<id>}:lease" (token -> deadline = now + LeaseTTL, Redis's
// time; in the id's slot). It grants one only if its fixed windows of
// every limit last until the deadline, and only to a busy id: one that
// asked Redis on this replica within LeaseTTL, whose last lease was spent,
// or whose concurrent calls went together; a lease of an idle id would
// cost Redis its grant and settlement for nothing. One call of an id asks
// for a lease at a time (leaseTable.ask): concurrent calls that go in
// several round trips would each be granted one, each grant ending the
// one before it with a settlement, for a few requests each.
//
// The replica spends the lease for requests of the same id, limits and
// cost while its local monotonic clock is before the call's start plus
// LeaseTTL (the injected clock, from the grant to the deadline, in
// tests): Redis's clock cannot have advanced more since, so Redis's time
// is still before the deadline, in the lease's fixed windows. The k-th
// request spent is decided with decide on the counts the grant returned,
// curr + (k-1)*cost, at the local estimate of Redis's time (kept within
// the lease's windows): the decision Redis would have given a lone
// replica. A lease ends when spent, expired, or asked for other limits or
// costs; what it did not spend is then returned (DECRBY of its keys, if
// they still exist) and its record removed, by a settlement entry of
// allow.lua, sent with the next call of the id or, for an idle id, on its
// own when it expires. A request of the id waits for a settlement in
// flight, so that it never sees the units being returned. In the last
// quarter of a lease's time, one call of the id asks Redis for the next
// lease while the others go on spending this one; the next replaces it,
// and it is settled then. Without that, every request between a lease's
// end and the next grant went to Redis. Redis counts both leases until
// the old one is settled, and the new one's decisions start from those
// counts: a lone replica's RateLimit remaining can read lower by what the
// old one had left (at most LeaseMax), never its admissions, and a request
// the new lease cannot decide goes to Redis.
//
// Why this is exact:
//
//   - Never over the limit: every request decided from a lease was counted
//     in Redis when the lease was granted, with a check that it fit at that
//     instant t. Later in the same fixed windows, prev is unchanged (or
//     lowered by settlements) and the weight of prev only falls, so the
//     count, lease included, still fits at the instant of the request: it
//     is admitted exactly when the formula admits it, whichever replica
//     decides it. Returning unspent units lowers counts of requests that
//     never happened.
//   - Never denied for a lease: a request that does not fit while leases of
//     its id are outstanding is not denied at once. allow.lua answers with
//     the earliest deadline among them; the caller waits until then (at
//     most until its own deadline; if the lease is this replica's, it ends
//     it at once) and asks again, when the holders have settled. So N
//     requests above the limit admit exactly the limit across replicas, and
//     a denial sees the counts it would see without leases. A denial whose
//     wait would outlast the caller's timeout stands: under-admission,
//     never over-admission.
//   - A replica lost while holding a lease (a crash, or Redis unreachable
//     from it) never settles it: what it spent counts, what it did not
//     stays counted until its windows pass, at most LeaseMax requests per
//     lost replica and id. allow.lua drops its record LeaseTTL after its
//     deadline, after which denials no longer wait for it. A lease granted
//     in a call that failed after Redis ran it is lost the same way.
//   - Redis lost: leases held keep deciding until they expire, as counted
//     in Redis before; then Fallback answers from memory as without leases.
//   - As for every count, a clock going back (Redis's, or the injected one)
//     by more than the lease's age can count a request in an earlier window
//     than the lease's; Redis TIME does not go back.
//
// A denied request waits at most LeaseTTL (DefaultLeaseTTL, 10ms), plus
// LeaseTTL when a holder is lost, for leases that other replicas hold, and
// only when leases are outstanding: near the limit, none are granted, and
// the last ones end within LeaseTTL. Replicas of one Redis should all lease
// or none: one that does not lease denies without waiting. Under load, a
// busy id's requests then cost Redis about one script run per lease
// instead of one per round trip (BenchmarkRedisAllowParallelLeasing).
//
// # Concurrency
//
// Memory, Redis and Fallback are safe for concurrent use. Memory's Allow
// serializes per shard of ids; Redis's is atomic in Redis, across
// replicas. Close stops the goroutines and clients that a constructor
// started; for Redis, once the last Allow has returned.
//
// # Errors
//
// A denial is a Decision with Allowed false, never an error. Allow returns
// an error wrapping ErrInvalidRequest when its arguments are invalid (and
// also ErrInvalidLimit when a limit is), and, for Redis, an error when
// Redis did not answer within the timeout or answered unexpectedly: the
// limiter could not decide. Fallback turns the latter into a Memory
// decision. ParseLimit and ParseLimits return errors wrapping
// ErrInvalidLimit.
package limiter
