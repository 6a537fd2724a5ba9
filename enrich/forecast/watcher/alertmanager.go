package watcher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/augur-sre/augur/config"
)

// Alert is an alert as Alertmanager's POST /api/v2/alerts takes it.
type Alert struct {
	Labels       model.LabelSet `json:"labels"`
	Annotations  model.LabelSet `json:"annotations"`
	StartsAt     time.Time      `json:"startsAt"`
	EndsAt       time.Time      `json:"endsAt"`
	GeneratorURL string         `json:"generatorURL,omitempty"`
}

// Alertmanager posts alerts to one Alertmanager.
type Alertmanager struct {
	url     string
	client  *http.Client
	timeout time.Duration
}

// NewAlertmanager returns a client for the alertmanager section.
func NewAlertmanager(cfg config.AlertmanagerConfig) (*Alertmanager, error) {
	client, err := commoncfg.NewClientFromConfig(cfg.HTTPConfig, "alertmanager")
	if err != nil {
		return nil, fmt.Errorf("alertmanager.http_config: %w", err)
	}
	return &Alertmanager{
		url:     cfg.URL.JoinPath("api/v2/alerts").String(),
		client:  client,
		timeout: time.Duration(cfg.Timeout),
	}, nil
}

// Post sends alerts; none is nothing to send.
func (am *Alertmanager) Post(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("encode predicted alerts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, am.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post predicted alerts: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := am.client.Do(req)
	if err != nil {
		return fmt.Errorf("post predicted alerts to %s: %w", am.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024)) //nolint:errcheck // the status says enough without it.
		return fmt.Errorf("post predicted alerts to %s: %s: %s", am.url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
