package image

import (
	"context"
	"errors"
	"time"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Options tune a Service. Unset fields take EC2's defaults, except
// PublicImageQuota, whose zero is a real quota.
type Options struct {
	// Now and NewID are injected so tests are deterministic.
	Now   func() time.Time
	NewID func(prefix string) string
	// PublicImageQuota is the number of public images an account may have
	// per region: 0 allows none, negative means unlimited. It has no
	// hidden default, so callers wanting EC2's pass
	// DefaultPublicImageQuota.
	PublicImageQuota int
	// ImageQuota is the number of images an account may have per region,
	// deregistered ones aside (RegisterImage, CopyImage and CreateImage
	// check it; generate and import do not): 0 means DefaultImageQuota,
	// negative means unlimited.
	ImageQuota int
	// DeregisteredRetention is how long a deregistered image can still be
	// described by id (an empty answer) before it reads as not found.
	DeregisteredRetention time.Duration
	// TokenKey signs pagination tokens; processes sharing a store must
	// share it. Empty: one is kept in the store.
	TokenKey []byte
	// PendingDelay is how long images made by RegisterImage, CopyImage and
	// CreateImage stay pending before they read as available; 0 makes them
	// available at once.
	PendingDelay time.Duration
	// Events writes an AMI state change event (events.go) to the store's
	// outbox with every qualifying change; off, nothing is written, so an
	// outbox without a deliverer (no --events-url) does not grow.
	Events bool
	// AllowUnknownSnapshots is the compatible mode of
	// --allow-unknown-snapshots (spec ec2-snapshots §6.2): RegisterImage
	// takes a well-formed snapshot id amigo holds no record of as an
	// external reference instead of answering InvalidSnapshot.NotFound.
	AllowUnknownSnapshots bool
}

// Service implements the image actions over a Store. Every rule of the EC2
// image API lives in this package; the transport only decodes and encodes.
type Service struct {
	store Store
	opts  Options
	pages *resource.Pages
}

// DefaultPublicImageQuota is EC2's default quota of public images per
// account and region.
const DefaultPublicImageQuota = 5

// DefaultImageQuota is EC2's default "AMIs" quota (Service Quotas
// L-B665C33B): 50,000 public and private images per account and region,
// pending, available and disabled ones alike.
const DefaultImageQuota = 50000

// sharingQuota is EC2's limit of accounts, organizations and OUs one image
// can be shared with (spec §1.4).
const sharingQuota = 1000

// NewService returns a Service over store.
func NewService(ctx context.Context, store Store, opts Options) (*Service, error) {
	if opts.ImageQuota == 0 {
		opts.ImageQuota = DefaultImageQuota
	}
	if opts.DeregisteredRetention == 0 {
		opts.DeregisteredRetention = time.Hour
	}
	s := &Service{store: store, opts: opts}
	if len(s.opts.TokenKey) == 0 {
		err := store.Update(ctx, func(tx Tx) error {
			var err error
			s.opts.TokenKey, err = resource.TokenKey(ctx, tx)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	s.pages = resource.NewPages(s.opts.TokenKey)
	return s, nil
}

// Pages returns the page tokens of the service, for the listings of the
// kinds built on images (their tokens share the key).
func (s *Service) Pages() *resource.Pages { return s.pages }

func (s *Service) now() time.Time { return resource.Clock(s.opts.Now).Now() }

func (s *Service) newID(prefix string) string { return resource.IDSource(s.opts.NewID).New(prefix) }

// gone reports whether a deregistered image has passed its retention and
// now reads as never having existed.
func (s *Service) gone(img *Image) bool {
	return img.State == StateDeregistered && img.DeregisteredAt != nil &&
		s.now().Sub(*img.DeregisteredAt) > s.opts.DeregisteredRetention
}

// lookup returns the image if the caller may see it: InvalidAMIID.NotFound
// otherwise, exactly as if it did not exist.
func (s *Service) lookup(ctx context.Context, tx Tx, c resource.Caller, id string) (*Image, error) {
	img, err := tx.Image(ctx, c.Region, id)
	if errors.Is(err, resource.ErrNotFound) {
		return nil, errNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	s.settle(img)
	if s.gone(img) || !img.VisibleTo(c.Viewer) {
		return nil, errNotFound(id)
	}
	return img, nil
}

// owned returns the image if the caller owns it: NotFound when it cannot
// see it, AuthFailure when it can see it but is not the owner, and
// InvalidAMIID.Unavailable once deregistered.
func (s *Service) owned(ctx context.Context, tx Tx, c resource.Caller, id string) (*Image, error) {
	img, err := s.lookup(ctx, tx, c, id)
	if err != nil {
		return nil, err
	}
	if img.OwnerID != c.Account {
		return nil, errNotAuthorized(id)
	}
	if img.State == StateDeregistered {
		return nil, errNoLongerAvailable(id)
	}
	return img, nil
}

// CheckImageID is the syntax check every single-image action starts with.
//
// Returns MissingParameter and InvalidAMIID.Malformed.
func CheckImageID(id string) error {
	if id == "" {
		return awserr.MissingParameter("ImageId")
	}
	if !ValidImageID(id) {
		return errMalformedID(id)
	}
	return nil
}
