package keystore_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/keystore"
)

func TestListQuery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		s := openStore(t, url, keystore.Config{})
		for _, k := range [][2]string{{"Shop", "partner-42"}, {"crm", "Partner-7"}, {"billing", "acme"}, {"50%_off", "promo"}} {
			if _, _, err := s.Create(ctx, "test", keystore.Spec{Name: k[0], Owner: k[1]}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string][]string{}
		for _, q := range []string{"shop", "PARTNER", "acme", "%", "_", "nothing", "0%_"} {
			recs, total, err := s.List(ctx, keystore.Filter{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, r := range recs {
				names = append(names, r.Name)
			}
			if int(total) != len(names) {
				t.Errorf("q=%q: total %d for %d keys", q, total, len(names))
			}
			got[q] = names
		}
		want := map[string][]string{
			"shop": {"Shop"}, "PARTNER": {"crm", "Shop"}, "acme": {"billing"},
			"%": {"50%_off"}, "_": {"50%_off"}, "nothing": {}, "0%_": {"50%_off"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("name or owner contains q, any case, wildcards literal (-want +got):\n%s", diff)
		}
	})
}

func TestTopUsage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		clk := newClock()
		s := openStore(t, url, keystore.Config{Now: clk.Now, FlushInterval: time.Hour})
		ids := map[string]string{}
		for _, name := range []string{"quiet", "busy", "refused", "old"} {
			rec, _, err := s.Create(ctx, "test", keystore.Spec{Name: name, Owner: "o-" + name})
			if err != nil {
				t.Fatal(err)
			}
			ids[name] = rec.ID
		}
		use := func(name string, allowed, denied int, at time.Time) {
			for range allowed {
				s.RecordUse(ids[name], true, at)
			}
			for range denied {
				s.RecordUse(ids[name], false, at)
			}
		}
		now := clk.Now()
		use("old", 100, 100, now.Add(-48*time.Hour))
		use("busy", 7, 1, now.Add(-2*time.Hour))
		use("busy", 3, 0, now)
		use("refused", 2, 9, now)
		use("quiet", 1, 0, now)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		since := now.Add(-24 * time.Hour)
		total := func(name string, a, d int64) keystore.UsageTotal {
			return keystore.UsageTotal{KeyID: ids[name], Prefix: prefixOf(t, s, ids[name]), Name: name, Owner: "o-" + name, Allowed: a, Denied: d}
		}
		cases := []struct {
			name  string
			by    keystore.UsageOrder
			limit int
			want  []keystore.UsageTotal
		}{
			{"busiest_first_within_the_window", keystore.ByAllowed, 10, []keystore.UsageTotal{total("busy", 10, 1), total("refused", 2, 9), total("quiet", 1, 0)}},
			{"most_refused_leaves_out_keys_never_refused", keystore.ByDenied, 10, []keystore.UsageTotal{total("refused", 2, 9), total("busy", 10, 1)}},
			{"limit_cuts_the_list", keystore.ByAllowed, 1, []keystore.UsageTotal{total("busy", 10, 1)}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.TopUsage(ctx, since, c.by, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
		if _, err := s.TopUsage(ctx, since, "hash", 10); err == nil {
			t.Error(`TopUsage by "hash" succeeded; want ErrInvalid`)
		}
	})
}

func prefixOf(t testing.TB, s *keystore.Store, id string) string {
	t.Helper()
	r, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Prefix
}
