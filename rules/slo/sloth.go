package slo

import (
	"errors"
	"fmt"
	"maps"

	"github.com/prometheus/common/model"
)

// slothSpec is Sloth's prometheus/v1 spec.
type slothSpec struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels,omitempty"`
	// TimePeriod is not in Sloth's schema (Sloth takes the period from a
	// flag); augur reads it when given, for the whole file.
	TimePeriod model.Duration `yaml:"time_period,omitempty"`
	SLOs       []slothSLO     `yaml:"slos"`
}

// slothK8s is Sloth's PrometheusServiceLevel Kubernetes resource.
type slothK8s struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   map[string]any `yaml:"metadata"`
	Spec       slothSpec      `yaml:"spec"`
}

type slothSLO struct {
	Name        string            `yaml:"name"`
	Objective   float64           `yaml:"objective"`
	Description string            `yaml:"description,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	TimePeriod  model.Duration    `yaml:"time_period,omitempty"`
	SLI         slothSLI          `yaml:"sli"`
	Alerting    slothAlerting     `yaml:"alerting,omitempty"`
}

type slothSLI struct {
	Events *EventsSLI `yaml:"events,omitempty"`
	Raw    *RawSLI    `yaml:"raw,omitempty"`
	Plugin any        `yaml:"plugin,omitempty"`
}

type slothAlerting struct {
	Name        string            `yaml:"name,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	PageAlert   slothTier         `yaml:"page_alert,omitempty"`
	TicketAlert slothTier         `yaml:"ticket_alert,omitempty"`
}

type slothTier struct {
	Disable     bool              `yaml:"disable,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// UnmarshalYAML decodes one Sloth SLO, naming it in decoding errors.
func (s *slothSLO) UnmarshalYAML(unmarshal func(any) error) error {
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	name, _ := raw["name"].(string)
	type plain slothSLO
	if err := unmarshal((*plain)(s)); err != nil {
		return fmt.Errorf("slo %q: %w", name, err)
	}
	return nil
}

func (sp *slothSpec) slos() ([]SLO, error) {
	if sp.Service == "" {
		return nil, errors.New("service: is required")
	}
	if len(sp.SLOs) == 0 {
		return nil, errors.New("slos: at least one SLO is required")
	}
	out := make([]SLO, 0, len(sp.SLOs))
	for _, in := range sp.SLOs {
		if in.SLI.Plugin != nil {
			return nil, fmt.Errorf("slo %q: sli.plugin: Sloth SLI plugins are not supported: use sli.events or sli.raw", in.Name)
		}
		labels := maps.Clone(sp.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, in.Labels)
		period := sp.TimePeriod
		if in.TimePeriod != 0 {
			period = in.TimePeriod
		}
		s := SLO{
			Name:        in.Name,
			Service:     sp.Service,
			Objective:   in.Objective,
			TimeWindow:  period,
			Description: in.Description,
			Labels:      labels,
			SLI:         SLI{Events: in.SLI.Events, Raw: in.SLI.Raw},
			Alerting: Alerting{
				Name:        in.Alerting.Name,
				Labels:      in.Alerting.Labels,
				Annotations: in.Alerting.Annotations,
				PageAlert:   in.Alerting.PageAlert.tier(),
				TicketAlert: in.Alerting.TicketAlert.tier(),
			},
			Spec: SpecSloth,
		}
		if err := s.Validate(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (t slothTier) tier() AlertTier {
	return AlertTier{Disable: t.Disable, Labels: t.Labels, Annotations: t.Annotations}
}
