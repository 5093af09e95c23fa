package instance

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// ReferenceOption is one ResourceTypeOption of DescribeImageReferences.
type ReferenceOption struct {
	Name   string
	Values []string
}

// ReferenceType is one ResourceType of DescribeImageReferences.
type ReferenceType struct {
	Type    string
	Options []ReferenceOption
}

// ImageReferencesRequest is DescribeImageReferences' input.
type ImageReferencesRequest struct {
	ImageIDs                []string
	IncludeAllResourceTypes bool
	ResourceTypes           []ReferenceType
	MaxResults              *int32
	NextToken               *string
	DryRun                  bool
}

// ImageReference is one of the caller's resources that uses an image.
type ImageReference struct {
	ImageID      string
	ResourceType string
	ARN          string
}

const refInstance = "ec2:Instance"

var referenceTypes = []string{refInstance, "ec2:LaunchTemplate", "ssm:Parameter", "imagebuilder:ImageRecipe", "imagebuilder:ContainerRecipe"}

// DescribeImageReferences lists the caller's resources that use the given
// images (spec §2.16). amigo has instances only: ec2:Instance references,
// by default for every instance that is not terminated, or for the states
// the state-name option names.
//
// Returns MissingParameter, InvalidParameterValue,
// InvalidParameterCombination, InvalidAMIID.Malformed / .NotFound,
// UnauthorizedOperation and DryRunOperation.
func (s *Service) DescribeImageReferences(ctx context.Context, c resource.Caller, r *ImageReferencesRequest) ([]ImageReference, string, error) {
	if len(r.ImageIDs) == 0 {
		return nil, "", awserr.MissingParameter("ImageId")
	}
	if len(r.ImageIDs) > 10 {
		return nil, "", awserr.InvalidParameterValue("The maximum number of image IDs per request (10) has been exceeded.")
	}
	for _, id := range r.ImageIDs {
		if err := image.CheckImageID(id); err != nil {
			return nil, "", err
		}
	}
	if !r.IncludeAllResourceTypes && len(r.ResourceTypes) == 0 {
		return nil, "", errCombination("Specify either IncludeAllResourceTypes or at least one ResourceType.")
	}
	if err := resource.CheckMaxResults(r.MaxResults); err != nil {
		return nil, "", err
	}
	wantInstances := r.IncludeAllResourceTypes
	want := slices.DeleteFunc(slices.Clone(states), func(s string) bool { return s == StateTerminated })
	for _, rt := range r.ResourceTypes {
		if !slices.Contains(referenceTypes, rt.Type) {
			return nil, "", awserr.InvalidParameterValue("Value (%s) for parameter ResourceType is invalid. Valid values: %s", rt.Type, strings.Join(referenceTypes, ", "))
		}
		for _, o := range rt.Options {
			switch {
			case rt.Type == refInstance && o.Name == "state-name":
				for _, v := range o.Values {
					if !slices.Contains(states, v) {
						return nil, "", awserr.InvalidParameterValue("Value (%s) for option state-name is invalid. Valid values: %s", v, strings.Join(states, ", "))
					}
				}
				if len(o.Values) > 0 {
					want = o.Values
				}
			case rt.Type == "ec2:LaunchTemplate" && o.Name == "version-depth":
				for _, v := range o.Values {
					if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 10000 {
						return nil, "", awserr.InvalidParameterValue("Value (%s) for option version-depth is invalid. Expecting a value between 1 and 10000.", v)
					}
				}
			default:
				return nil, "", awserr.InvalidParameterValue("The option '%s' is not valid for resource type %s.", o.Name, rt.Type)
			}
		}
		wantInstances = wantInstances || rt.Type == refInstance
	}
	if err := resource.Authorize(c, "DescribeImageReferences", "*"); err != nil {
		return nil, "", err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(r.ImageIDs)))
	var refs []ImageReference
	next := ""
	err := s.store.ViewInstances(ctx, func(tx Tx) error {
		if err := s.images.CheckVisible(ctx, tx, c, ids); err != nil {
			return err
		}
		if r.DryRun {
			return awserr.DryRunOK()
		}
		if !wantInstances {
			refs, next = nil, ""
			return nil
		}
		var err error
		refs, next, err = resource.List(ctx, s.images.Pages(), c, resource.Page{MaxResults: r.MaxResults, NextToken: r.NextToken}, resource.Listing[ImageReference, ImageReference]{
			Kind: "image-references",
			Criteria: func(f *resource.Fingerprint) {
				f.Add(ids...)
				f.Add("states")
				f.Add(want...)
			},
			// The references are few (the caller's instances of ten
			// images): read them all, in the order a token can resume.
			Fetch: func(after string, limit int) ([]ImageReference, error) {
				insts, err := tx.FindInstances(ctx, Query{Region: c.Region, OwnerID: c.Account, ImageIDs: ids})
				if err != nil {
					return nil, err
				}
				var out []ImageReference
				for _, inst := range insts {
					if inst.OwnerID != c.Account || s.gone(inst) || !slices.Contains(want, inst.State) {
						continue
					}
					ref := ImageReference{ImageID: inst.ImageID, ResourceType: refInstance, ARN: resource.InstanceARN(c.Region, c.Account, inst.ID)}
					if referenceKey(ref) > after {
						out = append(out, ref)
					}
				}
				slices.SortFunc(out, func(a, b ImageReference) int { return strings.Compare(referenceKey(a), referenceKey(b)) })
				return out, nil
			},
			Key:       referenceKey,
			Keep:      func(refs []ImageReference) ([]ImageReference, error) { return refs, nil },
			ResultKey: referenceKey,
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return refs, next, nil
}

// referenceKey orders references by image, then resource.
func referenceKey(r ImageReference) string { return r.ImageID + " " + r.ARN }
