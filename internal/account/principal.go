package account

import (
	"crypto/sha256"
	"encoding/base32"
	"regexp"

	"github.com/amigo-ec2/amigo/internal/iam"
)

// userNameRE is IAM's rule for user names.
var userNameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

func validUserName(s string) bool { return userNameRE.MatchString(s) }

// Principal is who a request signed with k comes from: the IAM user it
// names, or the account's root (spec around-images §2.4).
func (k Key) Principal() iam.Principal {
	if k.User == "" {
		return iam.Principal{Account: k.Account, ARN: "arn:aws:iam::" + k.Account + ":root", ID: k.Account}
	}
	return iam.Principal{Account: k.Account, ARN: "arn:aws:iam::" + k.Account + ":user/" + k.User,
		ID: UserID(k.Account, k.User), Name: k.User}
}

// UserID is the unique id of user in account: AIDA and 17 characters of
// A–Z2–7, derived from the two names so that it is the same in every
// process and across restarts without being stored.
func UserID(account, user string) string {
	sum := sha256.Sum256([]byte("amigo-iam-user\x00" + account + "\x00" + user))
	return "AIDA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}
