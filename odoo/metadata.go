package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/maypok86/otter/v2"
)

// Field is one field of a model as fields_get describes it.
type Field struct {
	// Type is Odoo's field type: "char", "many2one", "one2many", ...
	Type string `json:"type"`
	// Relation is the comodel of a relational field.
	Relation string `json:"relation,omitempty"`
	// RelationField is a one2many's inverse many2one on the comodel.
	RelationField string `json:"relation_field,omitempty"`
}

// Fields are a model's fields by name.
type Fields map[string]Field

// Attributes are the fields_get attributes that Metadata needs: ask Odoo
// for these only (fields_get(attributes=Attributes)).
var Attributes = []string{"type", "relation", "relation_field"}

// ErrBadFields reports an answer to fields_get that is not a map of
// field descriptions.
var ErrBadFields = errors.New("odoo: fields_get answered something else than field descriptions")

// ParseFields reads fields_get's JSON result. Every field must have a
// type, and a relational one its comodel.
func ParseFields(raw []byte) (Fields, error) {
	var fs Fields
	if err := json.Unmarshal(raw, &fs); err != nil || fs == nil {
		return nil, fmt.Errorf("%w: %.60s", ErrBadFields, raw)
	}
	for name, f := range fs {
		relational := f.Type == "many2one" || f.Type == "one2many" || f.Type == "many2many"
		if f.Type == "" || relational && f.Relation == "" {
			return nil, fmt.Errorf("%w: field %q has no type or comodel", ErrBadFields, name)
		}
	}
	return fs, nil
}

// Defaults of MetadataConfig.
const (
	DefaultMetadataTTL     = 10 * time.Minute
	DefaultMetadataEntries = 2000
	DefaultMetadataTimeout = 10 * time.Second
)

// FetchFunc asks Odoo for model's fields as account: fields_get with
// Attributes, read by ParseFields.
type FetchFunc[A comparable] func(ctx context.Context, account A, model string) (Fields, error)

// MetadataConfig configures a Metadata. Fetch is required; zero values
// take the documented defaults.
type MetadataConfig[A comparable] struct {
	Fetch FetchFunc[A]
	// TTL is how long a model's fields are kept (default
	// DefaultMetadataTTL): a module installed in Odoo shows after it.
	TTL time.Duration
	// MaxEntries bounds the (account, model) entries kept (default
	// DefaultMetadataEntries).
	MaxEntries int
	// Timeout bounds each fetch (default DefaultMetadataTimeout).
	Timeout time.Duration
	// Clock is the cache's time source (default: the system clock).
	Clock otter.Clock
}

// Metadata is the cache of models' fields per account (A identifies an
// account, such as proxy.Account). Safe for concurrent use.
type Metadata[A comparable] struct {
	cache   *otter.Cache[metaKey[A], Fields]
	fetch   FetchFunc[A]
	timeout time.Duration
}

type metaKey[A comparable] struct {
	account A
	model   string
}

// NewMetadata returns a Metadata.
func NewMetadata[A comparable](cfg MetadataConfig[A]) (*Metadata[A], error) {
	if cfg.Fetch == nil {
		return nil, errors.New("odoo: MetadataConfig.Fetch is required")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultMetadataTTL
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMetadataEntries
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultMetadataTimeout
	}
	c, err := otter.New(&otter.Options[metaKey[A], Fields]{
		MaximumSize:      cfg.MaxEntries,
		ExpiryCalculator: otter.ExpiryWriting[metaKey[A], Fields](cfg.TTL),
		Clock:            cfg.Clock,
	})
	if err != nil {
		return nil, fmt.Errorf("odoo: metadata cache: %w", err)
	}
	return &Metadata[A]{cache: c, fetch: cfg.Fetch, timeout: cfg.Timeout}, nil
}

// Fields returns model's fields as account sees them: from the cache,
// else fetched once for all concurrent callers. Errors are not cached.
func (m *Metadata[A]) Fields(ctx context.Context, account A, model string) (Fields, error) {
	k := metaKey[A]{account: account, model: model}
	if fs, ok := m.cache.GetIfPresent(k); ok {
		return fs, nil
	}
	fs, err := m.cache.Get(ctx, k, loader[A]{m})
	if err != nil {
		return nil, fmt.Errorf("odoo: fields of %s: %w", model, err)
	}
	return fs, nil
}

// loader fetches entries for the cache (otter.Loader).
type loader[A comparable] struct{ m *Metadata[A] }

func (l loader[A]) Load(ctx context.Context, k metaKey[A]) (Fields, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.m.timeout)
	defer cancel()
	return l.m.fetch(ctx, k.account, k.model)
}

// Reload is Load: Metadata does not refresh entries.
func (l loader[A]) Reload(ctx context.Context, k metaKey[A], _ Fields) (Fields, error) {
	return l.Load(ctx, k)
}

// Close stops the cache's maintenance goroutine.
func (m *Metadata[A]) Close() { m.cache.StopAllGoroutines() }

// Len returns the number of entries held, after pending evictions.
func (m *Metadata[A]) Len() int {
	m.cache.CleanUp()
	return m.cache.EstimatedSize()
}
