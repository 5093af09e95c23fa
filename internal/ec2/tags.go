package ec2

import (
	"context"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/resource"
)

func (h *handlers) createTags(ctx context.Context, c resource.Caller, in *ec2api.CreateTagsRequest) (any, error) {
	if err := h.tags.CreateTags(ctx, c, in.Resources, tagsIn(in.Tags), flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *handlers) deleteTags(ctx context.Context, c resource.Caller, in *ec2api.DeleteTagsRequest) (any, error) {
	tags := make([]resource.TagKeyValue, len(in.Tags))
	for i, t := range in.Tags {
		tags[i] = resource.TagKeyValue{Key: str(t.Key), Value: t.Value}
	}
	if err := h.tags.DeleteTags(ctx, c, in.Resources, tags, flag(in.DryRun)); err != nil {
		return nil, err
	}
	return returnTrue(), nil
}

func (h *handlers) describeTags(ctx context.Context, c resource.Caller, in *ec2api.DescribeTagsRequest) (any, error) {
	r := &resource.DescribeTagsRequest{Page: resource.Page{MaxResults: in.MaxResults, NextToken: in.NextToken}, DryRun: flag(in.DryRun)}
	r.Filters = filters(in.Filters)
	if r.Streams() {
		st, err := h.tags.StreamTags(c, r)
		if err != nil {
			return nil, err
		}
		return streamOf(&ec2api.DescribeTagsResult{}, "Tags", st, tagDescriptionOut), nil
	}
	tags, next, err := h.tags.DescribeTags(ctx, c, r)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeTagsResult{Tags: make([]ec2api.TagDescription, len(tags)), NextToken: ptr(next)}
	for i := range tags {
		out.Tags[i] = tagDescriptionOut(tags[i])
	}
	return out, nil
}

func tagDescriptionOut(t resource.ResourceTag) ec2api.TagDescription {
	rt := resource.TypeOf(t.ResourceID)
	return ec2api.TagDescription{ResourceId: &t.ResourceID, ResourceType: &rt, Key: &t.Key, Value: &t.Value}
}
