package query

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// kind is what the codec knows how to read and write. Scalars are pointer
// fields (*string, *bool, …) except kBlob ([]byte); list elements are values.
type kind uint8

const (
	kString kind = iota + 1
	kBool
	kInt32
	kInt64
	kFloat64
	kTime
	kBlob   // []byte, base64 on the wire
	kStruct // *T
	kList   // []E
)

// field is one struct field with everything the codecs need precomputed, so
// that a request touches no reflect.StructField and builds no strings.
type field struct {
	goName string
	index  int
	offset uintptr
	kind   kind

	elem      kind         // element kind of a kList
	elemSize  uintptr      // element size of a kList
	sub       *structPlan  // kStruct, or a kList of structs
	sliceType reflect.Type // kList of structs: allocation only

	query    string // wire name; "" when the field is not decoded from a query
	required bool

	jsonName string // "" when the field is not in JSON
	jsonKey  string // `"Name":`

	xmlOpen, xmlClose, xmlEmpty    string // "<n>", "</n>", "<n/>"; xmlOpen "" skips the field
	itemOpen, itemClose, itemEmpty string // list items
}

// structPlan is the compiled form of one struct type.
type structPlan struct {
	typ      reflect.Type
	fields   []field
	byQuery  map[string]*field
	byJSON   map[string]*field
	required []*field
}

// sliceHeader mirrors the runtime layout of a slice. The codec reads and
// writes slice fields through it; pointer-typed stores keep the GC informed.
type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

var (
	plans     sync.Map   // reflect.Type (struct) -> *structPlan
	compileMu sync.Mutex // one compilation at a time: plans stored are complete
	timeType  = reflect.TypeFor[time.Time]()
)

// planFor returns the cached plan of struct type t, compiling it (and every
// struct it reaches) on first use.
func planFor(t reflect.Type) (*structPlan, error) {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan), nil
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan), nil
	}
	c := compiler{building: map[reflect.Type]*structPlan{}}
	p, err := c.compile(t)
	if err != nil {
		return nil, err
	}
	for typ, bp := range c.building {
		plans.Store(typ, bp)
	}
	return p, nil
}

type compiler struct {
	building map[reflect.Type]*structPlan // also breaks cycles
}

func (c *compiler) compile(t reflect.Type) (*structPlan, error) {
	if p, ok := c.building[t]; ok {
		return p, nil
	}
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan), nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("query: %v is not a struct", t)
	}
	p := &structPlan{typ: t, byQuery: map[string]*field{}, byJSON: map[string]*field{}}
	c.building[t] = p
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		if sf.Anonymous {
			return nil, fmt.Errorf("query: %v.%s: embedded fields are not supported", t, sf.Name)
		}
		f, err := c.field(sf)
		if err != nil {
			return nil, fmt.Errorf("query: %v.%s: %w", t, sf.Name, err)
		}
		f.index = len(p.fields)
		p.fields = append(p.fields, f)
	}
	for i := range p.fields {
		f := &p.fields[i]
		if f.query != "" {
			if prev := p.byQuery[f.query]; prev != nil {
				return nil, fmt.Errorf("query: %v: fields %s and %s share the query name %q", t, prev.goName, f.goName, f.query)
			}
			p.byQuery[f.query] = f
			if f.required {
				p.required = append(p.required, f)
			}
		}
		if f.jsonName != "" {
			if prev := p.byJSON[f.jsonName]; prev != nil {
				return nil, fmt.Errorf("query: %v: fields %s and %s share the json name %q", t, prev.goName, f.goName, f.jsonName)
			}
			p.byJSON[f.jsonName] = f
		}
	}
	return p, nil
}

func (c *compiler) field(sf reflect.StructField) (field, error) {
	f := field{goName: sf.Name, offset: sf.Offset}
	t := sf.Type
	switch t.Kind() {
	case reflect.Pointer:
		e := t.Elem()
		if e.Kind() == reflect.Struct && e != timeType {
			sub, err := c.compile(e)
			if err != nil {
				return f, err
			}
			f.kind, f.sub = kStruct, sub
			break
		}
		k, ok := scalarKind(e)
		if !ok {
			return f, fmt.Errorf("unsupported type %v", t)
		}
		f.kind = k
	case reflect.Slice:
		e := t.Elem()
		switch {
		case e.Kind() == reflect.Uint8:
			f.kind = kBlob
		case e.Kind() == reflect.Struct && e != timeType:
			sub, err := c.compile(e)
			if err != nil {
				return f, err
			}
			f.kind, f.elem, f.sub, f.sliceType, f.elemSize = kList, kStruct, sub, t, e.Size()
		default:
			k, ok := scalarKind(e)
			if !ok {
				return f, fmt.Errorf("unsupported type %v", t)
			}
			f.kind, f.elem, f.elemSize = kList, k, e.Size()
		}
	default:
		return f, fmt.Errorf("unsupported type %v (scalars must be pointers)", t)
	}

	if name, opts, _ := strings.Cut(sf.Tag.Get("query"), ","); name != "-" {
		f.query = name
		if f.query == "" {
			f.query = sf.Name
		}
		if strings.Contains(f.query, ".") {
			return f, fmt.Errorf("query name %q contains a dot", f.query)
		}
		f.required = hasOption(opts, "required")
	}
	if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name != "-" {
		f.jsonName = name
		if f.jsonName == "" {
			f.jsonName = sf.Name
		}
		var b bytes.Buffer
		writeJSONString(&b, f.jsonName)
		f.jsonKey = b.String() + ":"
	}
	if name := sf.Tag.Get("xml"); name != "-" {
		if name == "" {
			name = sf.Name
		}
		if !isXMLName(name) {
			return f, fmt.Errorf("xml name %q is not a valid element name", name)
		}
		f.xmlOpen, f.xmlClose, f.xmlEmpty = "<"+name+">", "</"+name+">", "<"+name+"/>"
		if f.kind == kList {
			item := sf.Tag.Get("xmlitem")
			if item == "" {
				item = "item"
			}
			if !isXMLName(item) {
				return f, fmt.Errorf("xmlitem name %q is not a valid element name", item)
			}
			f.itemOpen, f.itemClose, f.itemEmpty = "<"+item+">", "</"+item+">", "<"+item+"/>"
		}
	}
	return f, nil
}

func scalarKind(t reflect.Type) (kind, bool) {
	if t == timeType {
		return kTime, true
	}
	switch t.Kind() {
	case reflect.String:
		return kString, true
	case reflect.Bool:
		return kBool, true
	case reflect.Int32:
		return kInt32, true
	case reflect.Int64:
		return kInt64, true
	case reflect.Float64:
		return kFloat64, true
	}
	return 0, false
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// isXMLName accepts the ASCII subset of XML names that EC2 uses.
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// present reports whether the field holds a value: a non-nil pointer, or a
// non-nil slice.
func (f *field) present(base unsafe.Pointer) bool {
	fp := unsafe.Add(base, f.offset)
	if f.kind == kList || f.kind == kBlob {
		return (*sliceHeader)(fp).data != nil
	}
	return *(*unsafe.Pointer)(fp) != nil
}

// newStruct allocates a zero value of the plan's type. Go has no typed
// allocation without reflect; the type itself comes from the plan.
func (p *structPlan) newStruct() unsafe.Pointer {
	return reflect.New(p.typ).UnsafePointer()
}

// reflectMakeSlice allocates a zeroed backing array for n elements of the
// slice type t.
func reflectMakeSlice(t reflect.Type, n int) unsafe.Pointer {
	return reflect.MakeSlice(t, n, n).UnsafePointer()
}

// target returns the plan and address of dst, a non-nil pointer to a struct.
func target(dst any, fn string) (*structPlan, unsafe.Pointer, error) {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("query: %s needs a pointer to a struct, got %T", fn, dst)
	}
	ptr := reflect.ValueOf(dst).UnsafePointer()
	if ptr == nil {
		return nil, nil, fmt.Errorf("query: %s got a nil %T", fn, dst)
	}
	p, err := planFor(t.Elem())
	if err != nil {
		return nil, nil, err
	}
	return p, ptr, nil
}

// source returns the plan and address of an output value: a pointer to a
// struct or a struct. A nil pointer or nil interface has no members. Any
// other type is a programming error, reported by panic.
func source(out any) (*structPlan, unsafe.Pointer) {
	t := reflect.TypeOf(out)
	if t == nil {
		return nil, nil
	}
	var ptr unsafe.Pointer
	switch {
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		ptr = reflect.ValueOf(out).UnsafePointer()
		if ptr == nil {
			return nil, nil
		}
		t = t.Elem()
	case t.Kind() == reflect.Struct:
		v := reflect.New(t) // addressable copy
		v.Elem().Set(reflect.ValueOf(out))
		ptr = v.UnsafePointer()
	default:
		panic(fmt.Sprintf("query: cannot encode %T: want a pointer to a struct", out))
	}
	p, err := planFor(t)
	if err != nil {
		panic(err.Error())
	}
	return p, ptr
}
