package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Parse reads the SLOs of one spec file, whatever its format:
//
//   - Sloth's prometheus/v1 spec (version: "prometheus/v1"), or the same
//     spec inside Sloth's Kubernetes PrometheusServiceLevel resource;
//   - OpenSLO v1 (apiVersion: openslo/v1), one or more documents, of which
//     the SLO documents are read and SLI documents resolve indicatorRef;
//   - augur's short form: a list of SLOs, or a mapping with slos:.
//
// Decoding is strict: an unknown key is an error. Every error starts with
// file, and then names the SLO and the field.
func Parse(file string, data []byte) ([]SLO, error) {
	docs, err := documents(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// The second pass decodes each document strictly into the type its
	// format calls for; a yaml.Node cannot be decoded strictly.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	p := openSLOParser{slis: map[string]openSLOSLISpec{}}
	var (
		slos    []SLO
		pending []openSLODocument
	)
	for _, doc := range docs {
		var out []SLO
		switch doc {
		case formatEmpty:
			var skip yaml.Node
			err = dec.Decode(&skip)
		case formatShortList:
			err = dec.Decode(&out)
		case formatShortMap:
			var m struct {
				SLOs []SLO `yaml:"slos"`
			}
			err = dec.Decode(&m)
			out = m.SLOs
		case formatSloth:
			var s slothSpec
			if err = dec.Decode(&s); err == nil {
				out, err = s.slos()
			}
		case formatSlothK8s:
			var s slothK8s
			if err = dec.Decode(&s); err == nil {
				out, err = s.Spec.slos()
			}
		case formatOpenSLO:
			var d openSLODocument
			if err = dec.Decode(&d); err == nil {
				if d.Kind == "SLI" {
					p.slis[d.Metadata.Name] = d.SLISpec()
				}
				if d.Kind == "SLO" {
					pending = append(pending, d)
				}
			}
		case formatOther:
			var skip yaml.Node
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		slos = append(slos, out...)
	}
	// OpenSLO SLOs last, once every SLI document of the file is known.
	for _, d := range pending {
		out, err := p.slos(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		slos = append(slos, out...)
	}
	if len(slos) == 0 {
		return nil, fmt.Errorf("%s: no SLO in the file", file)
	}
	if err := checkUnique(slos); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return slos, nil
}

func checkUnique(slos []SLO) error {
	seen := map[string]bool{}
	for _, s := range slos {
		if seen[s.ID()] {
			return fmt.Errorf("slo %q: defined twice (id %q)", s.Name, s.ID())
		}
		seen[s.ID()] = true
	}
	return nil
}

type format int

const (
	formatEmpty format = iota
	formatShortList
	formatShortMap
	formatSloth
	formatSlothK8s
	formatOpenSLO
	formatOther
)

// documents finds the format of each YAML document in data.
func documents(data []byte) ([]format, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []format
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse YAML: %w", err)
		}
		f, err := detect(&n)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		docs = append(docs, f)
	}
	if len(docs) == 0 {
		return nil, errors.New("no SLO spec in the file")
	}
	return docs, nil
}

func detect(doc *yaml.Node) (format, error) {
	if len(doc.Content) == 0 {
		return formatEmpty, nil
	}
	root := doc.Content[0]
	switch root.Kind {
	case yaml.SequenceNode:
		return formatShortList, nil
	case yaml.MappingNode:
	case yaml.ScalarNode:
		if root.Tag == "!!null" {
			return formatEmpty, nil
		}
		return 0, fmt.Errorf("line %d: want a mapping or a list of SLOs", root.Line)
	default:
		return 0, fmt.Errorf("line %d: want a mapping or a list of SLOs", root.Line)
	}
	if v := mappingValue(root, "version"); v != nil {
		if v.Value != SpecSloth {
			return 0, fmt.Errorf("line %d: version %q: unsupported, want %q (Sloth)", v.Line, v.Value, SpecSloth)
		}
		return formatSloth, nil
	}
	if v := mappingValue(root, "apiVersion"); v != nil {
		switch v.Value {
		case SpecOpenSLO:
			return formatOpenSLO, nil
		case "openslo/v1alpha", "openslo/v2alpha":
			return 0, fmt.Errorf("line %d: apiVersion %q: unsupported, want %q", v.Line, v.Value, SpecOpenSLO)
		case "sloth.slok.dev/v1":
			if k := mappingValue(root, "kind"); k != nil && k.Value == "PrometheusServiceLevel" {
				return formatSlothK8s, nil
			}
		}
		return formatOther, nil
	}
	if mappingValue(root, "slos") != nil {
		return formatShortMap, nil
	}
	return 0, fmt.Errorf("line %d: unknown spec format: want Sloth (version: %s), OpenSLO (apiVersion: %s) or a list of augur's short form (slos)",
		root.Line, SpecSloth, SpecOpenSLO)
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
