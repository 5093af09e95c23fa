package audit

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sensitive names parameters whose value is never recorded (spec §6.3).
var sensitive = map[string]bool{"userData": true}

const sensitiveRemoved = "<sensitiveDataRemoved>"

// idPattern recognises the ids of the resources LookupEvents lists.
var idPattern = regexp.MustCompile(`^(ami|i|snap|vol)-[0-9a-f]{8,17}$`)

var resourceTypes = map[string]string{
	"ami":  "AWS::EC2::Ami",
	"i":    "AWS::EC2::Instance",
	"snap": "AWS::EC2::Snapshot",
	"vol":  "AWS::EC2::Volume",
}

// ResourceOf returns the resource an id names, if it is one LookupEvents
// lists.
func ResourceOf(id string) (Resource, bool) {
	if !idPattern.MatchString(id) {
		return Resource{}, false
	}
	prefix, _, _ := strings.Cut(id, "-")
	return Resource{Type: resourceTypes[prefix], Name: id}, true
}

// Parameters turns a decoded EC2 input (an ec2api request struct) into
// requestParameters in EC2's recorded style (spec §6.3): names from the
// XML locationName in lower camel case, lists as {"items": [...]}, absent
// members left out; and collects the resource ids it names. nil input, or
// one with no member set, records null.
func Parameters(action string, in any) (json.RawMessage, []Resource) {
	if in == nil {
		return nil, nil
	}
	w := walker{}
	v, ok := w.value(reflect.ValueOf(in), "")
	if !ok {
		return nil, w.resources
	}
	if m, isMap := v.(map[string]any); isMap && action == "ModifyImageAttribute" {
		// The structured form names the attribute it changes (§6.3).
		if _, has := m["attributeType"]; !has {
			if _, lp := m["launchPermission"]; lp {
				m["attributeType"] = "launchPermission"
			}
		}
		if a, has := m["attribute"]; has {
			m["attributeType"] = a
			delete(m, "attribute")
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, w.resources
	}
	return b, w.resources
}

type walker struct {
	resources []Resource
	depth     int // of structs: 0 is the input itself
}

// value returns v in the recorded style, or false when it is absent.
func (w *walker) value(v reflect.Value, name string) (any, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		top := w.depth == 0
		w.depth++
		defer func() { w.depth-- }()
		m := map[string]any{}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			n := fieldName(f)
			x, ok := w.value(v.Field(i), n)
			if !ok {
				continue
			}
			if top && v.Field(i).Kind() == reflect.Slice {
				n = setName(n)
			}
			if sensitive[n] {
				x = sensitiveRemoved // whatever its shape
			}
			m[n] = x
		}
		if len(m) == 0 {
			return nil, false
		}
		return m, true
	case reflect.Slice:
		if v.Len() == 0 {
			return nil, false
		}
		items := make([]any, 0, v.Len())
		for i := range v.Len() {
			x, ok := w.value(v.Index(i), name)
			if !ok {
				continue
			}
			if _, isMap := x.(map[string]any); !isMap {
				// EC2 records a list of scalars as items of one-member
				// objects named for the list's member.
				x = map[string]any{singular(name): x}
			}
			items = append(items, x)
		}
		return map[string]any{"items": items}, true
	case reflect.String:
		s := v.String()
		if r, ok := ResourceOf(s); ok {
			w.resources = append(w.resources, r)
		}
		return s, true
	default:
		return v.Interface(), true
	}
}

// fieldName is the member's XML name in lower camel case.
func fieldName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
	if n == "" {
		n = f.Name
	}
	r, size := utf8.DecodeRuneInString(n)
	return string(unicode.ToLower(r)) + n[size:]
}

// setName is the recorded name of a list parameter of the input: EC2
// records InstanceId.N as instancesSet, Tag.N as tagSet, Filter.N as
// filterSet (spec §6.3).
func setName(n string) string {
	if base, ok := strings.CutSuffix(n, "Id"); ok && base != "" {
		return base + "sSet"
	}
	return n + "Set"
}

// singular names a scalar list's items: "imageIds" has "imageId" items,
// "userId" (the Query name) stays.
func singular(name string) string {
	if s, ok := strings.CutSuffix(name, "s"); ok && len(s) > 1 {
		return s
	}
	return name
}

// JSONParameters turns the JSON body of a JSON-protocol call (LookupEvents)
// into requestParameters: the same members, names in lower camel case, as
// CloudTrail records the calls of JSON services. An empty or unreadable
// body, or one with no member, records null.
func JSONParameters(body []byte) json.RawMessage {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil || len(v) == 0 {
		return nil
	}
	b, err := json.Marshal(lowerKeys(v))
	if err != nil {
		return nil
	}
	return b
}

func lowerKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			r, size := utf8.DecodeRuneInString(k)
			m[string(unicode.ToLower(r))+k[size:]] = lowerKeys(val)
		}
		return m
	case []any:
		for i := range x {
			x[i] = lowerKeys(x[i])
		}
		return x
	}
	return v
}
