package instance

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/snapshot"
	"github.com/amigo-ec2/amigo/internal/volume"
)

// Options tune a Service; the zero value gives EC2's defaults.
type Options struct {
	// Now and NewID are injected so tests are deterministic.
	Now   func() time.Time
	NewID func(prefix string) string
	// Snapshots and Volumes, when set, let the tag actions name snap- and
	// vol- ids (without them those ids are InvalidID, as before).
	Snapshots *snapshot.Service
	Volumes   *volume.Service
	// Delays are how long instances stay pending (launch, start) and
	// stopping; zero settles at once. Status checks stay initializing for
	// the pending delay after an instance reaches running.
	Delays Delays
}

// Service implements the instance actions over a Store, asking images for
// every image rule.
type Service struct {
	store  Store
	images *image.Service
	clock  resource.Clock
	ids    resource.IDSource
	tags   *resource.Tagging[Tx]
	opts   Options
}

// NewService returns a Service over store; images is the image service on
// the same store.
func NewService(store Store, images *image.Service, opts Options) *Service {
	s := &Service{store: store, images: images, clock: opts.Now, ids: opts.NewID, opts: opts}
	kinds := []resource.Taggable[Tx]{
		{Prefix: "ami", Check: func(ctx context.Context, tx Tx, c resource.Caller, id string) error {
			return images.CheckTaggable(ctx, tx, c, id)
		}},
		{Prefix: "i", Check: s.checkTaggable},
	}
	if snaps := opts.Snapshots; snaps != nil {
		kinds = append(kinds, resource.Taggable[Tx]{Prefix: "snap", Check: func(ctx context.Context, tx Tx, c resource.Caller, id string) error {
			return snaps.CheckTaggable(ctx, tx, c, id)
		}})
	}
	if vols := opts.Volumes; vols != nil {
		kinds = append(kinds, resource.Taggable[Tx]{Prefix: "vol", Check: func(ctx context.Context, tx Tx, c resource.Caller, id string) error {
			return vols.CheckTaggable(ctx, tx, c, id)
		}})
	}
	s.tags = resource.NewTagging(store.ViewInstances, store.UpdateInstances, images.Pages(), kinds...)
	return s
}

// Tagging returns the tag actions (CreateTags, DeleteTags, DescribeTags).
// They name images and instances, so the kind at the top of the
// dependency order serves them.
func (s *Service) Tagging() *resource.Tagging[Tx] { return s.tags }

func (s *Service) now() time.Time { return s.clock.Now() }

// terminatedRetention is how long a terminated instance stays in
// DescribeInstances, as on EC2.
const terminatedRetention = time.Hour

func errMalformed(id string) error {
	return awserr.Newf(awserr.CodeInvalidInstanceIDMalformed, "Invalid id: %q (expecting \"i-...\")", id)
}

func errNotFound(ids ...string) error {
	if len(ids) == 1 {
		return awserr.Newf(awserr.CodeInvalidInstanceIDNotFound, "The instance ID '%s' does not exist", ids[0])
	}
	return awserr.Newf(awserr.CodeInvalidInstanceIDNotFound, "The instance IDs '%s' do not exist", strings.Join(ids, ", "))
}

func errCombination(format string, args ...any) error {
	return awserr.Newf(awserr.CodeInvalidParameterCombination, format, args...)
}

// validID reports whether id is a well-formed instance id.
func validID(id string) bool { return resource.ValidResourceID(id, "i") }

func checkID(id string) error {
	if id == "" {
		return awserr.MissingParameter("InstanceId")
	}
	if !validID(id) {
		return errMalformed(id)
	}
	return nil
}

// gone reports whether a terminated instance has left DescribeInstances.
func (s *Service) gone(inst *Instance) bool {
	return inst.State == StateTerminated && inst.TerminatedAt != nil &&
		s.now().Sub(*inst.TerminatedAt) > terminatedRetention
}

// settle moves an instance whose pending or stopping delay has passed to
// its next state. Reads settle what they show; the next write of the
// instance stores it.
func (s *Service) settle(inst *Instance) {
	inst.setLife(inst.life().Settle(s.now(), s.opts.Delays))
}

// settled is settle for an instance a read shares with others (a listing's
// candidates): inst itself, or a settled copy.
func (s *Service) settled(inst *Instance) *Instance {
	if inst.State != StatePending && inst.State != StateStopping {
		return inst
	}
	c := *inst
	s.settle(&c)
	return &c
}

// find returns the caller's instance, settled, or nil when it does not
// exist, is another account's, or is long terminated.
func (s *Service) find(ctx context.Context, tx Tx, c resource.Caller, id string) (*Instance, error) {
	inst, err := tx.Instance(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.settle(inst)
	if inst.OwnerID != c.Account || s.gone(inst) {
		return nil, nil
	}
	return inst, nil
}

// owned is find with InvalidInstanceID.NotFound for nil.
func (s *Service) owned(ctx context.Context, tx Tx, c resource.Caller, id string) (*Instance, error) {
	inst, err := s.find(ctx, tx, c, id)
	if err == nil && inst == nil {
		return nil, errNotFound(id)
	}
	return inst, err
}

// checkTaggable is the instance side of CreateTags and DeleteTags: the
// caller may tag the instances it owns.
func (s *Service) checkTaggable(ctx context.Context, tx Tx, c resource.Caller, id string) error {
	inst, err := tx.Instance(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) || err == nil && inst.OwnerID != c.Account {
		return errNotFound(id)
	}
	return err
}

// uniqueInOrder drops repeated ids, keeping the first of each.
func uniqueInOrder(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
