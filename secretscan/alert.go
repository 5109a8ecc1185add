package secretscan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/keygate/keygate/keystore"
)

// Labels of GitHub's feedback format.
const (
	TruePositive  = "true_positive"
	FalsePositive = "false_positive"
)

// Alert is one match GitHub reports.
type Alert struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// Result is the answer for one Alert, in GitHub's feedback format.
type Result struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// maxDetail bounds the url and source kept in the audit log and logs.
const maxDetail = 2048

// decodeAlerts reads the body: exactly one JSON array of objects whose
// token, type, url and source are strings (any may be absent);
// nothing may follow it. Fields GitHub may add later are ignored: the body
// is signed by GitHub, and refusing a field it adds would stop every
// revocation.
func decodeAlerts(body []byte) ([]Alert, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the array")
	}
	if raw == nil {
		return nil, errors.New("body is null, want an array")
	}
	alerts := make([]Alert, len(raw))
	for i, r := range raw {
		if !bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
			return nil, fmt.Errorf("alert %d is not an object", i)
		}
		if err := json.Unmarshal(r, &alerts[i]); err != nil {
			return nil, fmt.Errorf("alert %d: %w", i, err)
		}
	}
	return alerts, nil
}

// process revokes what each alert reports and labels it. A storage
// failure stops the batch (503): GitHub sends it again, and what was done
// already is not done twice.
func (h *Handler) process(ctx context.Context, alerts []Alert) ([]Result, error) {
	results := make([]Result, len(alerts))
	for i, a := range alerts {
		label, err := h.one(ctx, a)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(a.Token))
		results[i] = Result{TokenHash: hex.EncodeToString(sum[:]), TokenType: a.Type, Label: label}
	}
	return results, nil
}

// one handles one alert. A token that is a key of this keygate is a true
// positive whatever its state (GitHub's label means "a real credential"):
// revoked now if it was not. Anything else is a false positive.
func (h *Handler) one(ctx context.Context, a Alert) (string, error) {
	url, source := clip(a.URL), clip(a.Source)
	details := map[string]any{"reason": "leaked", "reported_by": "github", "token_type": clip(a.Type), "url": url, "source": source}
	rec, revoked, err := h.keys.RevokeLeaked(ctx, Actor, a.Token, details)
	switch {
	case errors.Is(err, keystore.ErrMalformed), errors.Is(err, keystore.ErrUnknown):
		h.stats.falsePos.Add(1)
		return FalsePositive, nil
	case err != nil:
		return "", err
	}
	h.stats.truePos.Add(1)
	if revoked {
		h.stats.revoked.Add(1)
		h.log.Warn("leaked key revoked", "key_id", rec.ID, "owner", rec.Owner, "url", url, "source", source)
	} else {
		h.log.Info("leaked key reported again", "key_id", rec.ID, "status", string(rec.Status), "url", url, "source", source)
	}
	return TruePositive, nil
}

func clip(s string) string {
	if len(s) > maxDetail {
		return s[:maxDetail]
	}
	return s
}
