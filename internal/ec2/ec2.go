// Package ec2 holds one small handler per EC2 action: it turns the decoded
// API input (internal/ec2api, generated from the model) into a domain call
// and the domain answer into the API output. No rule lives here.
package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
)

// Action is one EC2 action: New makes its empty input, Handle runs it.
type Action struct {
	New    func() any
	Handle func(ctx context.Context, c image.Caller, in any) (any, error)
}

// handler adapts a typed handler to Action.
func handler[In any](f func(ctx context.Context, c image.Caller, in *In) (any, error)) Action {
	return Action{
		New:    func() any { return new(In) },
		Handle: func(ctx context.Context, c image.Caller, in any) (any, error) { return f(ctx, c, in.(*In)) },
	}
}

// Actions returns every action amigo serves.
func Actions(svc *image.Service) map[string]Action {
	h := &handlers{svc: svc}
	return map[string]Action{
		"ModifyImageAttribute":   handler(h.modifyImageAttribute),
		"DescribeImageAttribute": handler(h.describeImageAttribute),
		"ResetImageAttribute":    handler(h.resetImageAttribute),
		"RegisterImage":          handler(h.registerImage),
		"DeregisterImage":        handler(h.deregisterImage),
		"DescribeImages":         handler(h.describeImages),

		"EnableImageDeprecation":               handler(h.enableImageDeprecation),
		"DisableImageDeprecation":              handler(h.disableImageDeprecation),
		"EnableImageDeregistrationProtection":  handler(h.enableImageDeregistrationProtection),
		"DisableImageDeregistrationProtection": handler(h.disableImageDeregistrationProtection),
		"EnableImage":                          handler(h.enableImage),
		"DisableImage":                         handler(h.disableImage),
		"CancelImageLaunchPermission":          handler(h.cancelImageLaunchPermission),
		"EnableImageBlockPublicAccess":         handler(h.enableImageBlockPublicAccess),
		"DisableImageBlockPublicAccess":        handler(h.disableImageBlockPublicAccess),
		"GetImageBlockPublicAccessState":       handler(h.getImageBlockPublicAccessState),

		"CreateTags":   handler(h.createTags),
		"DeleteTags":   handler(h.deleteTags),
		"DescribeTags": handler(h.describeTags),

		"CopyImage":               handler(h.copyImage),
		"CreateImage":             handler(h.createImage),
		"RunInstances":            handler(h.runInstances),
		"DescribeInstances":       handler(h.describeInstances),
		"TerminateInstances":      handler(h.terminateInstances),
		"ModifyInstanceAttribute": handler(h.modifyInstanceAttribute),
		"GetInstanceUefiData":     handler(h.getInstanceUefiData),
		"DescribeImageReferences": handler(h.describeImageReferences),

		"EnableAllowedImagesSettings":                 handler(h.enableAllowedImagesSettings),
		"DisableAllowedImagesSettings":                handler(h.disableAllowedImagesSettings),
		"GetAllowedImagesSettings":                    handler(h.getAllowedImagesSettings),
		"ReplaceImageCriteriaInAllowedImagesSettings": handler(h.replaceImageCriteriaInAllowedImagesSettings),
	}
}

type handlers struct {
	svc *image.Service
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
