package record

import (
	"database/sql"
	"strings"

	"github.com/amigo-ec2/amigo/internal/image"

	"github.com/amigo-ec2/amigo/internal/instance"
)

// The column lists and row codecs below are the one description of the
// images and instances rows: both engines build their statements from them
// and scan through them, so a column added, renamed or reordered changes
// both at once. Statements themselves stay in each engine, since
// placeholders ($1 or ?) and idioms (arrays, ON CONFLICT) differ.

// Row is one result row of either driver: *sql.Rows, *sql.Row, pgx.Rows
// and pgx.Row all have this method.
type Row interface {
	Scan(dest ...any) error
}

// ImageColumns are the images columns ScanImage reads, in order, qualified
// by the alias i every engine gives the images table in its queries.
const ImageColumns = `i.region, i.image_id, i.owner_id, i.owner_alias, i.name, i.state, i.creation_date, i.deprecation_time, i.doc`

// imageColumnCount is how many columns ImageColumns names.
const imageColumnCount = 9

// ImageKeyColumns identify an images row; ImageValueColumns are the others
// a write sets, in the order ImageValues gives them.
var (
	ImageKeyColumns   = []string{"region", "image_id"}
	ImageValueColumns = []string{"owner_id", "owner_alias", "name", "state", "is_public", "creation_date", "deprecation_time", "doc"}
)

// ImageScan receives one row of ImageColumns. Engines scan into Dest on
// their driver's concrete rows type, where the destination list can stay
// on the stack, then take the image from Image. Use one per row.
type ImageScan struct {
	img        *image.Image
	created    int64
	deprecated sql.NullInt64
	// The document is read straight from the driver's buffer where the
	// driver allows (database/sql's RawBytes), so a cache hit never copies
	// it.
	doc sql.RawBytes
}

// Dest returns the scan destinations of a row of ImageColumns followed by
// extra columns, which go to extra.
func (s *ImageScan) Dest(extra ...any) []any {
	s.img = &image.Image{}
	img := s.img
	return append([]any{&img.Region, &img.ID, &img.OwnerID, &img.OwnerAlias, &img.Name, &img.State, &s.created, &s.deprecated, &s.doc}, extra...)
}

// Image returns the image scanned into Dest, its document decoded through
// docs (nil: no cache).
func (s *ImageScan) Image(docs *Docs) (*image.Image, error) {
	img := s.img
	img.CreationDate = FromMillis(s.created)
	if s.deprecated.Valid {
		t := FromMillis(s.deprecated.Int64)
		img.DeprecationTime = &t
	}
	if err := docs.DecodeImage(s.doc, img); err != nil {
		return nil, err
	}
	return img, nil
}

// ScanImage is ImageScan for a row known only by its interface; the
// destinations then escape to the heap.
func ScanImage(row Row, docs *Docs, extra ...any) (*image.Image, error) {
	var s ImageScan
	if err := row.Scan(s.Dest(extra...)...); err != nil {
		return nil, err
	}
	return s.Image(docs)
}

// SkipImage returns scan destinations that pass over the ImageColumns of a
// row, each into skip, and read two more columns into a and b: for the
// rows after the first of a join that repeats an image once per launch
// permission (skip is nil for pgx, a *sql.RawBytes for database/sql). An
// array, so that it needs no allocation.
func SkipImage(skip, a, b any) [imageColumnCount + 2]any {
	var dest [imageColumnCount + 2]any
	for i := range imageColumnCount {
		dest[i] = skip
	}
	dest[imageColumnCount], dest[imageColumnCount+1] = a, b
	return dest
}

// ImageValues returns the values of img's ImageValueColumns, in order:
// the public flag as a bool, times as unix milliseconds (nil for no
// deprecation time) and the encoded document.
func ImageValues(img *image.Image) ([]any, error) {
	var deprecated any
	if img.DeprecationTime != nil {
		deprecated = Millis(*img.DeprecationTime)
	}
	doc, err := EncodeImage(img)
	if err != nil {
		return nil, err
	}
	// Room for the key, which engines append for their statements.
	vals := make([]any, 0, len(ImageValueColumns)+len(ImageKeyColumns))
	return append(vals, img.OwnerID, img.OwnerAlias, img.Name, img.State, img.IsPublic(), Millis(img.CreationDate), deprecated, doc), nil
}

// InstanceColumns are the instances columns, in the order ScanInstance
// reads them and InstanceValues gives them; InstanceKeyColumns of them
// identify a row.
var (
	InstanceColumns    = []string{"region", "instance_id", "owner_id", "image_id", "state", "doc"}
	InstanceKeyColumns = InstanceColumns[:2]
)

// ScanInstance reads one row of InstanceColumns.
func ScanInstance(row Row) (*instance.Instance, error) {
	inst := &instance.Instance{}
	var doc []byte
	if err := row.Scan(&inst.Region, &inst.ID, &inst.OwnerID, &inst.ImageID, &inst.State, &doc); err != nil {
		return nil, err
	}
	if err := DecodeInstance(doc, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

// InstanceValues returns the values of inst's InstanceColumns, in order.
func InstanceValues(inst *instance.Instance) ([]any, error) {
	doc, err := EncodeInstance(inst)
	if err != nil {
		return nil, err
	}
	return []any{inst.Region, inst.ID, inst.OwnerID, inst.ImageID, inst.State, doc}, nil
}

// List joins column names for a SELECT or INSERT column list.
func List(cols []string) string { return strings.Join(cols, ", ") }

// Assign returns "c1 = p(first), c2 = p(first+1), …" for an UPDATE's SET
// clause, p giving the engine's placeholder for a parameter number.
func Assign(cols []string, first int, p func(n int) string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
		b.WriteString(" = ")
		b.WriteString(p(first + i))
	}
	return b.String()
}
