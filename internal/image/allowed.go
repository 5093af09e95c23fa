package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Allowed AMIs (spec §2.15): per account and region, which images other
// accounts own that the account may discover and launch.

// Allowed AMIs states.
const (
	AllowedDisabled  = "disabled"
	AllowedEnabled   = "enabled"
	AllowedAuditMode = "audit-mode"
)

// Setting names of the Allowed AMIs configuration.
const (
	SettingAllowedImagesState    = "allowed-images-state"
	SettingAllowedImagesCriteria = "allowed-images-criteria"
)

// Limits of ReplaceImageCriteriaInAllowedImagesSettings (spec §2.15).
const (
	maxCriteria        = 10
	maxImageProviders  = 200
	maxImageNames      = 50
	maxProductCodes    = 50
	providerNone       = "none"
	criterionDayLength = 24 * time.Hour
)

// ImageCriterion is one entry of the Allowed AMIs criteria. An image matches
// it when it satisfies every field that is set.
type ImageCriterion struct {
	// ImageProviders: owner aliases (amazon, aws-marketplace,
	// aws-backup-vault), account ids, or "none" alone.
	ImageProviders []string
	// ImageNames: names with * and ? wildcards.
	ImageNames []string
	// MarketplaceProductCodes: the image carries one of these marketplace codes.
	MarketplaceProductCodes []string
	// MaximumDaysSinceCreated: created at most this many days ago.
	MaximumDaysSinceCreated *int32
	// MaximumDaysSinceDeprecated: not deprecated, or deprecated at most this
	// many days ago.
	MaximumDaysSinceDeprecated *int32
}

// AllowedImagesSettings is GetAllowedImagesSettings' answer.
type AllowedImagesSettings struct {
	State     string
	Criteria  []ImageCriterion
	ManagedBy string // always "account": amigo has no declarative policies
}

var (
	criterionNamePattern = regexp.MustCompile(`^[a-zA-Z0-9 ()\[\]./\-'@_*?]{1,128}$`)
	productCodePattern   = regexp.MustCompile(`^[a-zA-Z0-9]{1,25}$`)
)

// CheckCriteria validates a full criteria list against EC2's limits.
//
// Returns InvalidParameterValue naming the first problem.
func CheckCriteria(cs []ImageCriterion) error {
	if len(cs) > maxCriteria {
		return awserr.InvalidParameterValue("The number of image criteria (%d) exceeds the limit of %d.", len(cs), maxCriteria)
	}
	for i, c := range cs {
		n := i + 1
		if len(c.ImageProviders) == 0 && len(c.ImageNames) == 0 && len(c.MarketplaceProductCodes) == 0 &&
			c.MaximumDaysSinceCreated == nil && c.MaximumDaysSinceDeprecated == nil {
			return awserr.InvalidParameterValue("Image criterion %d is empty. Specify at least one of ImageProvider, ImageName, MarketplaceProductCode, CreationDateCondition or DeprecationTimeCondition.", n)
		}
		if len(c.ImageProviders) > maxImageProviders {
			return awserr.InvalidParameterValue("Image criterion %d has %d image providers, more than the limit of %d.", n, len(c.ImageProviders), maxImageProviders)
		}
		for _, p := range c.ImageProviders {
			switch {
			case p == providerNone:
				if len(c.ImageProviders) > 1 {
					return awserr.InvalidParameterValue("Image criterion %d: the image provider 'none' cannot be combined with other image providers.", n)
				}
			case slices.Contains(ownerAliases, p), resource.ValidAccountID(p):
			default:
				return awserr.InvalidParameterValue("Value (%s) for parameter ImageProvider is invalid. Specify amazon, aws-marketplace, aws-backup-vault, none or a 12-digit account ID.", p)
			}
		}
		if len(c.ImageNames) > maxImageNames {
			return awserr.InvalidParameterValue("Image criterion %d has %d image names, more than the limit of %d.", n, len(c.ImageNames), maxImageNames)
		}
		for _, name := range c.ImageNames {
			if !criterionNamePattern.MatchString(name) || (slices.Contains([]rune(name), '?') && utf8.RuneCountInString(name) < 3) {
				return awserr.InvalidParameterValue("Value (%s) for parameter ImageName is invalid. Names are 1-128 characters (at least 3 with '?') of letters, numbers, spaces and ( ) [ ] . / - ' @ _ * ?.", name)
			}
		}
		if len(c.MarketplaceProductCodes) > maxProductCodes {
			return awserr.InvalidParameterValue("Image criterion %d has %d marketplace product codes, more than the limit of %d.", n, len(c.MarketplaceProductCodes), maxProductCodes)
		}
		for _, code := range c.MarketplaceProductCodes {
			if !productCodePattern.MatchString(code) {
				return awserr.InvalidParameterValue("Value (%s) for parameter MarketplaceProductCode is invalid. Product codes are 1-25 letters and numbers.", code)
			}
		}
		if d := c.MaximumDaysSinceCreated; d != nil && *d < 0 {
			return awserr.InvalidParameterValue("Value (%d) for parameter MaximumDaysSinceCreated is invalid. Expecting a value greater than or equal to 0.", *d)
		}
		if d := c.MaximumDaysSinceDeprecated; d != nil && *d < 0 {
			return awserr.InvalidParameterValue("Value (%d) for parameter MaximumDaysSinceDeprecated is invalid. Expecting a value greater than or equal to 0.", *d)
		}
	}
	return nil
}

// compiledCriterion is an ImageCriterion ready to test images.
type compiledCriterion struct {
	providers     map[string]bool    // nil: any provider
	names         []resource.Pattern // nil: any name
	codes         map[string]bool    // nil: any product code
	maxCreated    *time.Duration
	maxDeprecated *time.Duration
}

func compileCriterion(c ImageCriterion) compiledCriterion {
	var cc compiledCriterion
	if len(c.ImageProviders) > 0 {
		cc.providers = map[string]bool{}
		for _, p := range c.ImageProviders {
			cc.providers[p] = true
		}
	}
	for _, n := range c.ImageNames {
		cc.names = append(cc.names, resource.CompilePattern(n))
	}
	if len(c.MarketplaceProductCodes) > 0 {
		cc.codes = map[string]bool{}
		for _, code := range c.MarketplaceProductCodes {
			cc.codes[code] = true
		}
	}
	days := func(d *int32) *time.Duration {
		if d == nil {
			return nil
		}
		v := time.Duration(*d) * criterionDayLength
		return &v
	}
	cc.maxCreated = days(c.MaximumDaysSinceCreated)
	cc.maxDeprecated = days(c.MaximumDaysSinceDeprecated)
	return cc
}

// matches reports whether img satisfies every field of the criterion.
func (cc *compiledCriterion) matches(img *Image, now time.Time) bool {
	if cc.providers != nil {
		// "none" names no provider: only the account's own images, which
		// are allowed anyway.
		if !cc.providers[img.OwnerID] && (img.OwnerAlias == "" || !cc.providers[img.OwnerAlias]) {
			return false
		}
	}
	if cc.names != nil && !slices.ContainsFunc(cc.names, func(p resource.Pattern) bool { return p.Match(img.Name) }) {
		return false
	}
	if cc.codes != nil && !slices.ContainsFunc(img.ProductCodes, func(pc ProductCode) bool {
		return pc.Type == "marketplace" && cc.codes[pc.Code]
	}) {
		return false
	}
	if cc.maxCreated != nil && now.Sub(img.CreationDate) > *cc.maxCreated {
		return false
	}
	if cc.maxDeprecated != nil && deprecated(img, now) && now.Sub(*img.DeprecationTime) > *cc.maxDeprecated {
		return false
	}
	return true
}

// allowedPolicy is one account's Allowed AMIs setting in one region.
type allowedPolicy struct {
	state    string
	account  string
	criteria []compiledCriterion
	now      time.Time
}

// newAllowedPolicy compiles a setting; criteria are assumed valid.
func newAllowedPolicy(account, state string, cs []ImageCriterion, now time.Time) *allowedPolicy {
	p := &allowedPolicy{state: state, account: account, now: now}
	for _, c := range cs {
		p.criteria = append(p.criteria, compileCriterion(c))
	}
	return p
}

// allows is the rule: the account's own images always, others when they
// match at least one criterion.
func (p *allowedPolicy) allows(img *Image) bool {
	if img.OwnerID == p.account {
		return true
	}
	for i := range p.criteria {
		if p.criteria[i].matches(img, p.now) {
			return true
		}
	}
	return false
}

// hides reports whether the image must behave as if it did not exist
// (state enabled and not allowed): DescribeImages leaves it out and
// RunInstances answers InvalidAMIID.NotFound.
func (p *allowedPolicy) hides(img *Image) bool {
	return p.state == AllowedEnabled && !p.allows(img)
}

// verdict is imageAllowed as DescribeImages reports it: nil when the
// setting is disabled.
func (p *allowedPolicy) verdict(img *Image) *bool {
	if p.state != AllowedEnabled && p.state != AllowedAuditMode {
		return nil
	}
	v := p.allows(img)
	return &v
}

// criterionRecord is the stored form of an ImageCriterion (a JSON setting),
// so the domain type carries no encoding tags.
type criterionRecord struct {
	ImageProviders             []string `json:"imageProviders,omitempty"`
	ImageNames                 []string `json:"imageNames,omitempty"`
	MarketplaceProductCodes    []string `json:"marketplaceProductCodes,omitempty"`
	MaximumDaysSinceCreated    *int32   `json:"maximumDaysSinceCreated,omitempty"`
	MaximumDaysSinceDeprecated *int32   `json:"maximumDaysSinceDeprecated,omitempty"`
}

func encodeCriteria(cs []ImageCriterion) (string, error) {
	rs := make([]criterionRecord, len(cs))
	for i, c := range cs {
		rs[i] = criterionRecord(c)
	}
	b, err := json.Marshal(rs)
	return string(b), err
}

func decodeCriteria(s string) ([]ImageCriterion, error) {
	var rs []criterionRecord
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return nil, fmt.Errorf("allowed images criteria: %w", err)
	}
	cs := make([]ImageCriterion, len(rs))
	for i, r := range rs {
		cs[i] = ImageCriterion(r)
	}
	return cs, nil
}

// allowedSettings reads the stored state (disabled when never set) and criteria.
func allowedSettings(ctx context.Context, tx Tx, region, account string) (string, []ImageCriterion, error) {
	state, err := tx.Setting(ctx, region, account, SettingAllowedImagesState)
	if errors.Is(err, resource.ErrNotFound) {
		state = AllowedDisabled
	} else if err != nil {
		return "", nil, err
	}
	raw, err := tx.Setting(ctx, region, account, SettingAllowedImagesCriteria)
	if errors.Is(err, resource.ErrNotFound) || err == nil && raw == "" {
		return state, nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	cs, err := decodeCriteria(raw)
	return state, cs, err
}

// loadAllowedPolicy returns the caller's policy in its region.
func (s *Service) loadAllowedPolicy(ctx context.Context, tx Tx, c resource.Caller) (*allowedPolicy, error) {
	state, cs, err := allowedSettings(ctx, tx, c.Region, c.Account)
	if err != nil {
		return nil, err
	}
	return newAllowedPolicy(c.Account, state, cs, s.now()), nil
}

// EnableAllowedImages turns Allowed AMIs on for the caller in its region:
// enabled (enforced) or audit-mode (reported only). It returns the new state.
//
// Returns MissingParameter, InvalidParameterValue, UnauthorizedOperation
// and DryRunOperation.
func (s *Service) EnableAllowedImages(ctx context.Context, c resource.Caller, state string, dryRun bool) (string, error) {
	if state == "" {
		return "", awserr.MissingParameter("AllowedImagesSettingsState")
	}
	if state != AllowedEnabled && state != AllowedAuditMode {
		return "", awserr.InvalidParameterValue("Value (%s) for parameter AllowedImagesSettingsState is invalid. Valid values: enabled, audit-mode", state)
	}
	return s.setAllowedImagesState(ctx, c, "EnableAllowedImagesSettings", state, dryRun)
}

// DisableAllowedImages turns Allowed AMIs off; the criteria are kept.
func (s *Service) DisableAllowedImages(ctx context.Context, c resource.Caller, dryRun bool) (string, error) {
	return s.setAllowedImagesState(ctx, c, "DisableAllowedImagesSettings", AllowedDisabled, dryRun)
}

func (s *Service) setAllowedImagesState(ctx context.Context, c resource.Caller, action, state string, dryRun bool) (string, error) {
	if err := resource.Authorize(c, action, "*"); err != nil {
		return "", err
	}
	if dryRun {
		return "", awserr.DryRunOK()
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		return tx.SetSetting(ctx, c.Region, c.Account, SettingAllowedImagesState, state)
	})
	return state, err
}

// AllowedImagesSettings returns the caller's Allowed AMIs state and criteria.
func (s *Service) AllowedImagesSettings(ctx context.Context, c resource.Caller, dryRun bool) (*AllowedImagesSettings, error) {
	if err := resource.Authorize(c, "GetAllowedImagesSettings", "*"); err != nil {
		return nil, err
	}
	if dryRun {
		return nil, awserr.DryRunOK()
	}
	out := &AllowedImagesSettings{ManagedBy: "account"}
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out.State, out.Criteria, err = allowedSettings(ctx, tx, c.Region, c.Account)
		return err
	})
	return out, err
}

// ReplaceImageCriteria replaces the caller's whole criteria list (an empty
// list leaves only its own images allowed).
//
// Returns InvalidParameterValue, UnauthorizedOperation and DryRunOperation.
func (s *Service) ReplaceImageCriteria(ctx context.Context, c resource.Caller, cs []ImageCriterion, dryRun bool) error {
	if err := CheckCriteria(cs); err != nil {
		return err
	}
	if err := resource.Authorize(c, "ReplaceImageCriteriaInAllowedImagesSettings", "*"); err != nil {
		return err
	}
	if dryRun {
		return awserr.DryRunOK()
	}
	raw, err := encodeCriteria(cs)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		return tx.SetSetting(ctx, c.Region, c.Account, SettingAllowedImagesCriteria, raw)
	})
}

// filterImageAllowed is the DescribeImages filter on the Allowed AMIs verdict.
const filterImageAllowed = "image-allowed"

// splitAllowedFilters takes the image-allowed filters out of fs: they test
// the caller's Allowed AMIs verdict, which the image alone does not carry.
func splitAllowedFilters(fs []resource.CompiledFilter[*Image]) (rest, allowed []resource.CompiledFilter[*Image]) {
	for _, f := range fs {
		if f.Name == filterImageAllowed {
			allowed = append(allowed, f)
		} else {
			rest = append(rest, f)
		}
	}
	return rest, allowed
}

// matchAllowed applies image-allowed filters to a verdict; nil (the setting
// is disabled) reads as allowed.
func matchAllowed(fs []resource.CompiledFilter[*Image], verdict *bool) bool {
	v := "true"
	if verdict != nil {
		v = boolStr(*verdict)
	}
	for _, f := range fs {
		if !slices.ContainsFunc(f.Patterns, func(p resource.Pattern) bool { return p.Match(v) }) {
			return false
		}
	}
	return true
}
