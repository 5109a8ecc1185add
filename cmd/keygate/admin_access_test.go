package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testenv"
	"github.com/keygate/keygate/keystore"
)

// adminGET calls GET /admin/v1/keys with cred, as a client at xff when it
// is set (the test talks to the admin listener over loopback, which
// keygate trusts to forward addresses, as it does on /auth).
func adminGET(t testing.TB, k *instance, cred, xff string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, k.admin+"/admin/v1/keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, raw := testenv.Do(t, req)
	audit.secretsIn(raw)
	return res.StatusCode, res.Header
}

func adminKey(t testing.TB, k *instance, body string) string {
	t.Helper()
	status, created, _ := call(t, "POST", k.admin+"/admin/v1/keys", testToken, body)
	if status != http.StatusCreated {
		t.Fatalf("create %s: %d %v", body, status, created)
	}
	key := created["key"].(string)
	audit.secret(key)
	return key
}

// TestAdminListenerAppliesTheAdminKeysPolicy: an admin key's allowlist and
// rate limits hold on the admin listener, and forged admin credentials
// count against the failed-auth limit of their client.
func TestAdminListenerAppliesTheAdminKeysPolicy(t *testing.T) {
	k := start(t, "KEYGATE_DATABASE_URL="+sqliteURL(t), "KEYGATE_FAILED_AUTH_LIMIT=30/1m")
	t.Run("allowlist", func(t *testing.T) {
		key := adminKey(t, k, `{"name":"office","scopes":["admin"],"ip_allowlist":["10.1.2.3/32"]}`)
		got := []int{statusOf(adminGET(t, k, key, "")), statusOf(adminGET(t, k, key, "198.51.100.1")), statusOf(adminGET(t, k, key, "10.1.2.3"))}
		if diff := cmp.Diff([]int{403, 403, 200}, got); diff != "" {
			t.Fatalf("from 127.0.0.1, 198.51.100.1, 10.1.2.3 (-want +got):\n%s", diff)
		}
	})
	t.Run("rate_limits", func(t *testing.T) {
		key := adminKey(t, k, `{"name":"slow","scopes":["admin"],"rate_limits":["3/1m"]}`)
		var got []int
		var last http.Header
		for range 5 {
			var status int
			status, last = adminGET(t, k, key, "")
			got = append(got, status)
		}
		if diff := cmp.Diff([]int{200, 200, 200, 429, 429}, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		if s, err := strconv.Atoi(last.Get("Retry-After")); err != nil || s < 1 || last.Get("RateLimit-Policy") != `"1m";q=3;w=60` {
			t.Fatalf("429 headers: Retry-After %q, RateLimit-Policy %q", last.Get("Retry-After"), last.Get("RateLimit-Policy"))
		}
	})
	t.Run("failed_auth_limit", func(t *testing.T) {
		const attacker = "198.51.100.66"
		counts := map[int]int{}
		first429 := 0
		for i := range 120 {
			status, h := adminGET(t, k, forgedAdminCred(i), attacker)
			counts[status]++
			if status == http.StatusTooManyRequests && first429 == 0 {
				first429 = i + 1
				if h.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
			}
		}
		if diff := cmp.Diff(map[int]int{401: 30, 429: 90}, counts); diff != "" {
			t.Fatalf("120 forged credentials (-want +got):\n%s", diff)
		}
		if first429 != 31 {
			t.Fatalf("first 429 at attempt %d, want 31", first429)
		}
		if status, _ := adminGET(t, k, testToken, attacker); status != http.StatusTooManyRequests {
			t.Fatalf("the right token from a blocked client: %d, want 429", status)
		}
		if status, _ := adminGET(t, k, testToken, "198.51.100.67"); status != http.StatusOK {
			t.Fatalf("the token from another client: %d, want 200", status)
		}
	})
}

func statusOf(status int, _ http.Header) int { return status }

// forgedAdminCred varies the kinds of bad admin credentials: wrong tokens,
// malformed keys, well-formed unknown keys.
func forgedAdminCred(i int) string {
	switch i % 3 {
	case 0:
		return fmt.Sprintf("wrong-token-%032d", i)
	case 1:
		return "kg_" + strings.Repeat("x", 10) + strconv.Itoa(i)
	}
	key, _ := keystore.Generate("kg")
	audit.secret(key.Reveal())
	return key.Reveal()
}
