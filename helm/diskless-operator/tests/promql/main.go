// Command promql-check parses every PromQL expression the diskless-operator chart ships with
// Prometheus's own parser: the "expr" of every Grafana dashboard panel (and the metric of every
// label_values() variable query), and every rule of every PrometheusRule, which is also validated
// as Prometheus validates a rule file (rulefmt: expression, "for", label and annotation templates).
//
// Arguments are files: *.json is a Grafana dashboard; anything else is (multi-document) YAML as
// `helm template` prints it, in which ConfigMaps' *.json data are dashboards and PrometheusRules'
// spec.groups are rule groups. Grafana's variables ($__rate_interval, $group, ${topic}, ...) are
// substituted before parsing. Every metric a selector names must start with a known prefix, so
// that the tests that check names against live /metrics scrapes (DashboardMetricsIT in the broker,
// OperatorDashboardMetricsIT in the operator) see every one of them.
//
// Exits 0 and prints a summary, or 1 and every failing expression with its file and place.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Metric name prefixes the tests check against live scrapes; "up" is made by Prometheus itself.
var knownPrefixes = []string{"diskless_", "operator_sdk_", "jvm_", "process_", "system_"}

var (
	promql        = parser.NewParser(parser.Options{})
	grafanaRange  = regexp.MustCompile(`\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}`)
	grafanaVar    = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*`)
	labelValuesRe = regexp.MustCompile(`^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
)

type checker struct {
	exprs    int
	rules    int
	failures []string
	names    map[string]bool
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: promql-check FILE...")
		os.Exit(2)
	}
	c := &checker{names: map[string]bool{}}
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err != nil {
			c.fail(f, "", "", err)
			continue
		}
		if strings.HasSuffix(f, ".json") {
			c.dashboard(f, b)
		} else {
			c.yamlDocuments(f, b)
		}
	}
	if c.exprs == 0 {
		c.failures = append(c.failures, "no expression found in "+strings.Join(os.Args[1:], " "))
	}
	if len(c.failures) > 0 {
		for _, f := range c.failures {
			fmt.Println("FAIL " + f)
		}
		os.Exit(1)
	}
	names := make([]string, 0, len(c.names))
	for n := range c.names {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("ok: %d expressions parsed (%d rules validated), %d metric names: %s\n",
		c.exprs, c.rules, len(names), strings.Join(names, " "))
}

func (c *checker) fail(file, where, expr string, err error) {
	c.failures = append(c.failures, fmt.Sprintf("%s %s: %v\n    %s", file, where, err, expr))
}

// parse parses one expression, as Prometheus would after Grafana's substitutions.
func (c *checker) parse(file, where, expr string) {
	c.exprs++
	substituted := grafanaRange.ReplaceAllString(expr, "5m")
	substituted = grafanaVar.ReplaceAllString(substituted, "x")
	if m := labelValuesRe.FindStringSubmatch(substituted); m != nil {
		substituted = m[1]
	}
	e, err := promql.ParseExpr(substituted)
	if err != nil {
		c.fail(file, where, expr, err)
		return
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			c.fail(file, where, expr, errors.New("a selector without a metric name"))
			return nil
		}
		c.names[name] = true
		if name == "up" {
			return nil
		}
		for _, p := range knownPrefixes {
			if strings.HasPrefix(name, p) {
				return nil
			}
		}
		c.fail(file, where, expr, fmt.Errorf("metric %s has none of the prefixes %v that the tests check", name, knownPrefixes))
		return nil
	})
}

func (c *checker) dashboard(file string, b []byte) {
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		c.fail(file, "", "", err)
		return
	}
	title, _ := d["title"].(string)
	if title == "" {
		c.fail(file, "", "", errors.New("a dashboard without a title"))
	}
	found := c.exprs
	walk(d, "", func(path string, o map[string]any) {
		if e, ok := o["expr"].(string); ok {
			c.parse(file, title+path, e)
		}
		// A query variable: label_values(metric{...}, label) or a PromQL query.
		if t, _ := o["type"].(string); t == "query" {
			switch q := o["query"].(type) {
			case string:
				c.parse(file, title+path, q)
			case map[string]any:
				if s, ok := q["query"].(string); ok {
					c.parse(file, title+path, s)
				}
			}
		}
	})
	if c.exprs == found {
		c.fail(file, title, "", errors.New("a dashboard without expressions"))
	}
}

func walk(v any, path string, visit func(string, map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		where := path
		if t, ok := x["title"].(string); ok && t != "" {
			where = path + " / " + t
		}
		if n, ok := x["name"].(string); ok && n != "" {
			where = path + " / $" + n
		}
		visit(where, x)
		for _, child := range x {
			walk(child, where, visit)
		}
	case []any:
		for _, child := range x {
			walk(child, path, visit)
		}
	}
}

func (c *checker) yamlDocuments(file string, b []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			c.fail(file, "", "", err)
			return
		}
		kind, _ := doc["kind"].(string)
		meta, _ := doc["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		switch kind {
		case "ConfigMap":
			data, _ := doc["data"].(map[string]any)
			for k, v := range data {
				if s, ok := v.(string); ok && strings.HasSuffix(k, ".json") {
					c.dashboard(file+" ConfigMap "+name+" "+k, []byte(s))
				}
			}
		case "PrometheusRule":
			c.prometheusRule(file+" PrometheusRule "+name, doc)
		}
	}
}

func (c *checker) prometheusRule(where string, doc map[string]any) {
	spec, _ := doc["spec"].(map[string]any)
	groups, _ := spec["groups"].([]any)
	if len(groups) == 0 {
		c.fail(where, "", "", errors.New("no rule groups"))
		return
	}
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		gname, _ := gm["name"].(string)
		rules, _ := gm["rules"].([]any)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			alert, _ := rm["alert"].(string)
			expr, _ := rm["expr"].(string)
			c.parse(where, gname+"/"+alert, expr)
		}
	}
	// The groups as a Prometheus rule file: validated as Prometheus loads one.
	out, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		c.fail(where, "", "", err)
		return
	}
	rgs, errs := rulefmt.Parse(out, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	for _, e := range errs {
		c.fail(where, "rule file", "", e)
	}
	if rgs != nil {
		for _, g := range rgs.Groups {
			c.rules += len(g.Rules)
		}
	}
}
