// Package ec2api holds the Go types of the EC2 image API, generated from
// model.json (a subset of the botocore EC2 model). Struct tags carry the wire
// names that the query package reads:
//
//   - query:"Name[,required]" is the Query-protocol input name;
//   - xml:"name" is the output element name, xmlitem:"item" the list item name;
//   - json:"Member,omitempty" is the model member name (the JSON envelope).
//
// Scalars are pointers so that absent and zero differ; enums are *string,
// with the allowed values as constants (ImageAttributeNameLaunchPermission).
//
// Operations drives dispatch: the ec2 package decodes each action it serves
// into the input type Operations gives it (and checks at start-up that its
// handler takes that type), so every action has model-generated wire types.
package ec2api

//go:generate go run ./gen
