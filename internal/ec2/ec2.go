// Package ec2 holds one small handler per EC2 action: it turns the decoded
// API input (internal/ec2api, generated from the model) into a domain call
// and the domain answer into the API output. No rule lives here.
package ec2

import (
	"context"
	"fmt"

	"github.com/amigo-ec2/amigo/internal/region"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// Action is one EC2 action: New makes its empty input, Handle runs it.
type Action struct {
	New    func() any
	Handle func(ctx context.Context, c resource.Caller, in any) (any, error)
}

// Services are the domain services the actions call.
type Services struct {
	Images    *image.Service
	Instances *instance.Service
	Snapshots *snapshot.Service
	Volumes   *volume.Service
	Regions   *region.Set
}

// Actions returns every action amigo serves. The API model decides what
// each action decodes: an action's input is the one ec2api.Operations
// gives it, and its handler must take exactly that type (checked here,
// once, so a request pays one type assertion and no reflection).
func Actions(s Services) map[string]Action {
	h := &handlers{svc: s.Images, instances: s.Instances}
	if s.Instances != nil { // nil: only the names are wanted (tests)
		h.tags = s.Instances.Tagging()
	}
	r := &regionHandlers{set: s.Regions}
	sh := &snapshotHandlers{svc: s.Snapshots}
	vh := &volumeHandlers{volumes: s.Volumes, snapshots: s.Snapshots}
	m := map[string]Action{}
	handle(m, "ModifyImageAttribute", h.modifyImageAttribute)
	handle(m, "DescribeImageAttribute", h.describeImageAttribute)
	handle(m, "ResetImageAttribute", h.resetImageAttribute)
	handle(m, "RegisterImage", h.registerImage)
	handle(m, "DeregisterImage", h.deregisterImage)
	handle(m, "DescribeImages", h.describeImages)

	handle(m, "EnableImageDeprecation", h.enableImageDeprecation)
	handle(m, "DisableImageDeprecation", h.disableImageDeprecation)
	handle(m, "EnableImageDeregistrationProtection", h.enableImageDeregistrationProtection)
	handle(m, "DisableImageDeregistrationProtection", h.disableImageDeregistrationProtection)
	handle(m, "EnableImage", h.enableImage)
	handle(m, "DisableImage", h.disableImage)
	handle(m, "CancelImageLaunchPermission", h.cancelImageLaunchPermission)
	handle(m, "EnableImageBlockPublicAccess", h.enableImageBlockPublicAccess)
	handle(m, "DisableImageBlockPublicAccess", h.disableImageBlockPublicAccess)
	handle(m, "GetImageBlockPublicAccessState", h.getImageBlockPublicAccessState)

	handle(m, "CreateTags", h.createTags)
	handle(m, "DeleteTags", h.deleteTags)
	handle(m, "DescribeTags", h.describeTags)

	handle(m, "CopyImage", h.copyImage)
	handle(m, "CreateImage", h.createImage)
	handle(m, "RunInstances", h.runInstances)
	handle(m, "DescribeInstances", h.describeInstances)
	handle(m, "TerminateInstances", h.terminateInstances)
	handle(m, "ModifyInstanceAttribute", h.modifyInstanceAttribute)
	handle(m, "GetInstanceUefiData", h.getInstanceUefiData)
	handle(m, "DescribeImageReferences", h.describeImageReferences)

	handle(m, "EnableAllowedImagesSettings", h.enableAllowedImagesSettings)
	handle(m, "DisableAllowedImagesSettings", h.disableAllowedImagesSettings)
	handle(m, "GetAllowedImagesSettings", h.getAllowedImagesSettings)
	handle(m, "ReplaceImageCriteriaInAllowedImagesSettings", h.replaceImageCriteriaInAllowedImagesSettings)

	handle(m, "CreateVolume", vh.createVolume)
	handle(m, "DescribeVolumes", vh.describeVolumes)
	handle(m, "DeleteVolume", vh.deleteVolume)
	handle(m, "CreateSnapshot", sh.createSnapshot)
	handle(m, "DescribeSnapshots", sh.describeSnapshots)
	handle(m, "CopySnapshot", sh.copySnapshot)
	handle(m, "DeleteSnapshot", sh.deleteSnapshot)
	handle(m, "ModifySnapshotAttribute", sh.modifySnapshotAttribute)
	handle(m, "DescribeSnapshotAttribute", sh.describeSnapshotAttribute)
	handle(m, "ResetSnapshotAttribute", sh.resetSnapshotAttribute)
	handle(m, "EnableSnapshotBlockPublicAccess", sh.enableSnapshotBlockPublicAccess)
	handle(m, "DisableSnapshotBlockPublicAccess", sh.disableSnapshotBlockPublicAccess)
	handle(m, "GetSnapshotBlockPublicAccessState", sh.getSnapshotBlockPublicAccessState)

	handle(m, "DescribeRegions", r.describeRegions)
	handle(m, "DescribeAvailabilityZones", r.describeAvailabilityZones)
	return m
}

// handle adds a typed handler under its action's name. A name the model
// does not have, or a handler whose input is not the model's, is a
// programming error: amigo refuses to start.
func handle[In any](m map[string]Action, name string, f func(ctx context.Context, c resource.Caller, in *In) (any, error)) {
	op, ok := ec2api.Operations[name]
	if !ok {
		panic("ec2: " + name + " is not an operation of the API model")
	}
	if _, ok := op.New().(*In); !ok {
		panic(fmt.Sprintf("ec2: %s decodes into %T, but its handler takes %T", name, op.New(), new(In)))
	}
	m[name] = Action{
		New:    op.New,
		Handle: func(ctx context.Context, c resource.Caller, in any) (any, error) { return f(ctx, c, in.(*In)) },
	}
}

type handlers struct {
	svc       *image.Service
	instances *instance.Service
	tags      *resource.Tagging[instance.Tx]
}

// returnTrue is the answer of actions whose model output is empty.
func returnTrue() *ec2api.ReturnResult {
	t := true
	return &ec2api.ReturnResult{Return: &t}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func flag(p *bool) bool { return p != nil && *p }

// filters turns the model's Filter.N into the shared filter compiler's input.
func filters(fs []ec2api.Filter) []resource.Filter {
	out := make([]resource.Filter, len(fs))
	for i, f := range fs {
		out[i] = resource.Filter{Name: f.Name, Values: f.Values}
	}
	return out
}

// ref is ptr without the copy: p itself, or nil when *p is empty.
func ref(p *string) *string {
	if *p == "" {
		return nil
	}
	return p
}

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
