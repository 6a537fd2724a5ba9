package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/common/model"
)

// Decode parses and validates an Alertmanager webhook (version 4) body.
// The error says what is wrong in terms a sender can act on. Fields that
// older Alertmanagers do not send (notification_reason, routeLabels) are
// optional; fields that newer ones may add are ignored.
func Decode(body []byte) (*webhook.Message, error) {
	var msg webhook.Message
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&msg); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed JSON: unexpected data after the notification object")
	}
	if err := validate(&msg); err != nil {
		return nil, err
	}
	return &msg, nil
}

func validate(msg *webhook.Message) error {
	if msg.Data == nil {
		return errors.New("missing field \"alerts\"")
	}
	switch {
	case msg.Version == "":
		return errors.New("missing field \"version\"")
	case msg.Version != "4":
		return fmt.Errorf("unsupported webhook version %q: augur accepts Alertmanager's version \"4\"", msg.Version)
	case msg.GroupKey == "":
		return errors.New("missing field \"groupKey\"")
	case msg.Status != string(model.AlertFiring) && msg.Status != string(model.AlertResolved):
		return fmt.Errorf("field \"status\": want \"firing\" or \"resolved\", got %q", msg.Status)
	case len(msg.Alerts) == 0:
		return errors.New("field \"alerts\": must not be empty")
	}
	for name, kv := range map[string]map[string]string{
		"groupLabels":  msg.GroupLabels,
		"commonLabels": msg.CommonLabels,
		"routeLabels":  msg.RouteLabels,
	} {
		if err := validateLabels(kv); err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
	}
	for i, a := range msg.Alerts {
		if err := validateAlert(a.Status, a.Labels, a.StartsAt, a.EndsAt); err != nil {
			return fmt.Errorf("alerts[%d]: %w", i, err)
		}
	}
	return nil
}

func validateAlert(status string, labels map[string]string, startsAt, endsAt time.Time) error {
	if len(labels) == 0 {
		return errors.New("field \"labels\": at least one label is required")
	}
	if err := validateLabels(labels); err != nil {
		return fmt.Errorf("field \"labels\": %w", err)
	}
	if startsAt.IsZero() {
		return errors.New("missing field \"startsAt\"")
	}
	switch status {
	case string(model.AlertFiring):
	case string(model.AlertResolved):
		if endsAt.IsZero() {
			return errors.New("resolved alert without \"endsAt\"")
		}
	default:
		return fmt.Errorf("field \"status\": want \"firing\" or \"resolved\", got %q", status)
	}
	return nil
}

func validateLabels(kv map[string]string) error {
	for k := range kv {
		if !model.UTF8Validation.IsValidLabelName(k) {
			return fmt.Errorf("invalid label name %q", k)
		}
	}
	return nil
}
