package query

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"
)

// A Stream is an answer with one top-level list too long to hold at once
// (DescribeImages at a million images): the list's items are produced
// batch by batch while the answer is written. EncodeStream writes the
// bytes EncodeXML or EncodeJSON would write for Out with every item in
// the list.
type Stream struct {
	// Out points to the answer's struct; its List field is left nil (the
	// stream fills it).
	Out any
	// List is the Go name of Out's top-level list field.
	List string
	// Next returns the next items, a slice of the list's type; an empty
	// or nil one ends the list. ctx bounds this call's work: the server
	// gives the first call the request's deadline, later ones not (see
	// internal/server).
	Next func(ctx context.Context) (any, error)
}

// EncodeStream writes st's answer, XML (EC2's, for action and requestID)
// or amigo's JSON envelope, into buf. It takes each batch from next (st.Next
// with the caller's choice of context) and calls flush, which must write
// buf out and reset it, between items once buf holds StreamChunk bytes and
// before asking for every batch after the first, so that the first batch's
// bytes leave before the second is read. Nothing is flushed before the
// first batch has been encoded, so an error from the first next call
// leaves nothing written.
//
// An error from next or flush is returned at once, with the answer
// unfinished: the caller must then not write anything more to the client
// than it already has (an EC2 error envelope may follow only when nothing
// was flushed).
func EncodeStream(buf *bytes.Buffer, json bool, action, requestID string, st *Stream, next func() (any, error), flush func(*bytes.Buffer) error) error {
	p, base := source(st.Out)
	var list *field
	for i := range p.fields {
		if f := &p.fields[i]; f.goName == st.List && f.kind == kList {
			list = f
		}
	}
	if list == nil {
		panic(fmt.Sprintf("query: %T has no list field %q to stream", st.Out, st.List))
	}
	listType := p.typ.Field(list.index).Type

	var ferr error
	flushed := func(b *bytes.Buffer) {
		if ferr == nil {
			ferr = flush(b)
		}
		b.Reset()
	}
	items := 0
	// writeItems writes the list's items batch by batch; the list's open
	// tag waits for its first item, since an empty list is <name/>.
	writeItems := func() error {
		for batch := 0; ; batch++ {
			if batch > 0 && buf.Len() > 0 {
				flushed(buf)
			}
			if ferr != nil {
				return ferr
			}
			v, err := next()
			if err != nil {
				return err
			}
			if v == nil {
				return nil
			}
			rv := reflect.ValueOf(v)
			if rv.Type() != listType {
				panic(fmt.Sprintf("query: stream of %s.%s returned %T, want %s", p.typ, st.List, v, listType))
			}
			if rv.Len() == 0 {
				return nil
			}
			h := &sliceHeader{data: rv.UnsafePointer(), len: rv.Len(), cap: rv.Cap()}
			if json {
				writeJSONItems(buf, list, h, items, flushed)
			} else {
				if items == 0 {
					buf.WriteString(list.xmlOpen)
				}
				writeXMLItems(buf, list, h, flushed)
			}
			items += h.len
			runtime.KeepAlive(v)
		}
	}

	if json {
		buf.WriteString(`{"success":true,"data":{`)
		first := true
		for i := range p.fields {
			f := &p.fields[i]
			if f.jsonKey == "" || f != list && !f.present(base) {
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			buf.WriteString(f.jsonKey)
			if f != list {
				writeJSONValue(buf, f, unsafe.Add(base, f.offset))
				continue
			}
			buf.WriteByte('[')
			if err := writeItems(); err != nil {
				return err
			}
			buf.WriteByte(']')
		}
		buf.WriteString("}}")
		return ferr
	}
	writeXMLHead(buf, action, requestID)
	for i := range p.fields {
		f := &p.fields[i]
		if f != list {
			writeXMLField(buf, f, base, nil)
			continue
		}
		if err := writeItems(); err != nil {
			return err
		}
		if items == 0 {
			buf.WriteString(list.xmlEmpty)
		} else {
			buf.WriteString(list.xmlClose)
		}
	}
	writeXMLTail(buf, action)
	return ferr
}
