package record

import (
	"database/sql"
	"strings"

	"github.com/amigo-ec2/amigo/internal/image"
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

// ScanImage reads one row of ImageColumns followed by extra columns into
// extra, decoding the document through docs (nil: no cache). The document
// is decoded straight from the driver's buffer where the driver allows
// (database/sql's RawBytes), so it is never copied for a cache hit.
func ScanImage(row Row, docs *Docs, extra ...any) (*image.Image, error) {
	img := &image.Image{}
	var (
		created    int64
		deprecated sql.NullInt64
		doc        sql.RawBytes
	)
	dest := append([]any{&img.Region, &img.ID, &img.OwnerID, &img.OwnerAlias, &img.Name, &img.State, &created, &deprecated, &doc}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	img.CreationDate = FromMillis(created)
	if deprecated.Valid {
		t := FromMillis(deprecated.Int64)
		img.DeprecationTime = &t
	}
	if err := docs.DecodeImage(doc, img); err != nil {
		return nil, err
	}
	return img, nil
}

// SkipImage returns scan destinations that pass over the ImageColumns of a
// row, each skip, and read the extra columns into extra: for the rows after
// the first of a join that repeats the image (skip is nil for pgx, a
// *sql.RawBytes for database/sql).
func SkipImage(skip any, extra ...any) []any {
	dest := make([]any, imageColumnCount, imageColumnCount+len(extra))
	for i := range dest {
		dest[i] = skip
	}
	return append(dest, extra...)
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
	return []any{img.OwnerID, img.OwnerAlias, img.Name, img.State, img.IsPublic(), Millis(img.CreationDate), deprecated, doc}, nil
}

// InstanceColumns are the instances columns, in the order ScanInstance
// reads them and InstanceValues gives them; InstanceKeyColumns of them
// identify a row.
var (
	InstanceColumns    = []string{"region", "instance_id", "owner_id", "image_id", "state", "doc"}
	InstanceKeyColumns = InstanceColumns[:2]
)

// ScanInstance reads one row of InstanceColumns.
func ScanInstance(row Row) (*image.Instance, error) {
	inst := &image.Instance{}
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
func InstanceValues(inst *image.Instance) ([]any, error) {
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
