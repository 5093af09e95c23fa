// Package query is the EC2 Query-protocol codec: form values and JSON
// bodies into typed structs, and typed structs into the EC2 XML answer or
// amigo's JSON envelope, plus the error envelopes.
//
// It is driven only by struct tags (the ec2api package generates them from
// the model):
//
//	query:"WireName[,required]"  input name (spec §3.2); "-" skips the field
//	xml:"elemName"               output element name; "-" skips the field
//	xmlitem:"item"               element of each list item (default "item")
//	json:"MemberName,omitempty"  JSON member name; "-" skips the field
//
// Supported field types: *string, *bool, *int32, *int64, *float64,
// *time.Time, []byte, *Struct, and slices of string, bool, int32, int64,
// float64, time.Time or Struct values (named types with those underlying
// types too). Each struct type is compiled once into a plan (reflection
// happens there and nowhere else but allocation); requests then run on the
// plan through field offsets.
package query
