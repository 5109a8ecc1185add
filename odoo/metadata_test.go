package odoo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/odoo"
)

var ctx = context.Background()

// fixture returns the fields_get result real Odoo 18.0 gave for model
// (shared/odoo/18.0/metadata).
func fixture(tb testing.TB, model string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fields_get-18.0-"+model+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseFields(t *testing.T) {
	fs, err := odoo.ParseFields(fixture(t, "res.partner"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]odoo.Field{"user_ids": fs["user_ids"], "category_id": fs["category_id"], "country_id": fs["country_id"], "name": fs["name"]}
	want := map[string]odoo.Field{
		"user_ids":    {Type: "one2many", Relation: "res.users", RelationField: "partner_id"},
		"category_id": {Type: "many2many", Relation: "res.partner.category"},
		"country_id":  {Type: "many2one", Relation: "res.country"},
		"name":        {Type: "char"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseFields(res.partner) (-want +got):\n%s", diff)
	}
	for _, m := range []string{"res.users", "res.partner.category", "res.partner.bank", "res.country", "res.company",
		"res.groups", "res.currency", "ir.config_parameter", "mail.message"} {
		if _, err := odoo.ParseFields(fixture(t, m)); err != nil {
			t.Errorf("ParseFields(%s): %v", m, err)
		}
	}
}

func TestParseFieldsRefusesWhatIsNotFieldsGet(t *testing.T) {
	for name, raw := range map[string]string{
		"not_json":                   `{"a"`,
		"a_list":                     `[1, 2]`,
		"null":                       `null`,
		"field_without_type":         `{"name": {"string": "Name"}}`,
		"relational_without_comodel": `{"user_ids": {"type": "one2many"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := odoo.ParseFields([]byte(raw)); !errors.Is(err, odoo.ErrBadFields) {
				t.Errorf("ParseFields(%s) = %v, want ErrBadFields", raw, err)
			}
		})
	}
}

// fetcher is a FetchFunc that counts its calls per account and model.
type fetcher struct {
	mu    sync.Mutex
	calls map[string]int
	fail  atomic.Bool
	gate  chan struct{} // when set, each fetch waits for it
}

func newFetcher() *fetcher { return &fetcher{calls: map[string]int{}} }

func (f *fetcher) fetch(_ context.Context, account, model string) (odoo.Fields, error) {
	f.mu.Lock()
	f.calls[account+" "+model]++
	f.mu.Unlock()
	if f.gate != nil {
		<-f.gate
	}
	if f.fail.Load() {
		return nil, errors.New("odoo unreachable")
	}
	return odoo.Fields{"name": {Type: "char"}, "model": {Type: "char", Relation: model}}, nil
}

func (f *fetcher) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func newMetadata(tb testing.TB, cfg odoo.MetadataConfig[string]) *odoo.Metadata[string] {
	tb.Helper()
	m, err := odoo.NewMetadata(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Close)
	return m
}

func TestMetadataCachesPerAccountAndModel(t *testing.T) {
	f := newFetcher()
	m := newMetadata(t, odoo.MetadataConfig[string]{Fetch: f.fetch})
	for range 3 {
		for _, acct := range []string{"a", "b"} {
			for _, model := range []string{"res.partner", "res.users"} {
				fs, err := m.Fields(ctx, acct, model)
				if err != nil {
					t.Fatal(err)
				}
				if fs["model"].Relation != model {
					t.Fatalf("Fields(%s, %s) = %v: another model's fields", acct, model, fs)
				}
			}
		}
	}
	want := map[string]int{"a res.partner": 1, "a res.users": 1, "b res.partner": 1, "b res.users": 1}
	if diff := cmp.Diff(want, f.calls); diff != "" {
		t.Errorf("fetches (-want +got):\n%s", diff)
	}
}

func TestMetadataNeverCachesErrors(t *testing.T) {
	f := newFetcher()
	m := newMetadata(t, odoo.MetadataConfig[string]{Fetch: f.fetch})
	f.fail.Store(true)
	if _, err := m.Fields(ctx, "a", "res.partner"); err == nil || !strings.Contains(err.Error(), "odoo unreachable") {
		t.Fatalf("Fields with Odoo down = %v, want the fetch's error", err)
	}
	f.fail.Store(false)
	if _, err := m.Fields(ctx, "a", "res.partner"); err != nil {
		t.Fatalf("Fields once Odoo is back = %v", err)
	}
	if n := f.count("a res.partner"); n != 2 {
		t.Errorf("%d fetches, want 2: the error must not be cached", n)
	}
}

func TestMetadataExpiresAfterTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFetcher()
		m, err := odoo.NewMetadata(odoo.MetadataConfig[string]{Fetch: f.fetch, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		get := func() {
			if _, err := m.Fields(ctx, "a", "res.partner"); err != nil {
				t.Fatal(err)
			}
		}
		get()
		time.Sleep(59 * time.Second)
		get()
		if n := f.count("a res.partner"); n != 1 {
			t.Fatalf("%d fetches within the TTL, want 1", n)
		}
		time.Sleep(2 * time.Second)
		get()
		if n := f.count("a res.partner"); n != 2 {
			t.Errorf("%d fetches after the TTL, want 2", n)
		}
	})
}

func TestMetadataConcurrentMissesShareOneFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFetcher()
		f.gate = make(chan struct{})
		m, err := odoo.NewMetadata(odoo.MetadataConfig[string]{Fetch: f.fetch})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				_, err := m.Fields(ctx, "a", "res.partner")
				errs <- err
			})
		}
		synctest.Wait() // every caller is waiting: one in the fetch, the others for it
		close(f.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := f.count("a res.partner"); n != 1 {
			t.Errorf("%d fetches for 20 concurrent misses, want 1", n)
		}
	})
}

func TestMetadataIsBounded(t *testing.T) {
	f := newFetcher()
	m := newMetadata(t, odoo.MetadataConfig[string]{Fetch: f.fetch, MaxEntries: 10})
	for i := range 200 {
		if _, err := m.Fields(ctx, "a", fmt.Sprintf("x.model%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n > 10 {
		t.Errorf("%d entries kept, want at most 10", n)
	}
}

func TestNewMetadataNeedsFetch(t *testing.T) {
	if _, err := odoo.NewMetadata(odoo.MetadataConfig[string]{}); err == nil {
		t.Error("NewMetadata without Fetch = nil error")
	}
}

func BenchmarkMetadataCached(b *testing.B) {
	f := newFetcher()
	m := newMetadata(b, odoo.MetadataConfig[string]{Fetch: f.fetch})
	if _, err := m.Fields(ctx, "a", "res.partner"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Fields(ctx, "a", "res.partner"); err != nil {
			b.Fatal(err)
		}
	}
}
