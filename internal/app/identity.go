package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/amigo-ec2/amigo/internal/iam"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/region"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/server"
	"github.com/amigo-ec2/amigo/internal/sts"
)

// authzKeySetting names the store setting that holds the key of encoded
// authorization failure messages.
const authzKeySetting = "authorization-message-key"

// identity builds the served Regions, the message sealer (its key kept in
// the store, so every process on one database and every restart decodes
// the same messages) and STS.
func identity(ctx context.Context, st image.Store, regions []string) (server.Identity, error) {
	set, err := region.NewSet(regions)
	if err != nil {
		return server.Identity{}, err
	}
	key, err := loadAuthzKey(ctx, st)
	if err != nil {
		return server.Identity{}, err
	}
	sealer, err := iam.NewSealer(key)
	if err != nil {
		return server.Identity{}, err
	}
	return server.Identity{Regions: set, STS: sts.New(sealer), Sealer: sealer}, nil
}

// loadAuthzKey reads the message key, making it on first use; the store's
// transaction makes concurrent first starts agree on one key.
func loadAuthzKey(ctx context.Context, st image.Store) ([]byte, error) {
	var key string
	err := st.Update(ctx, func(tx image.Tx) error {
		v, err := tx.Setting(ctx, "", "", authzKeySetting)
		if err == nil {
			key = v
			return nil
		}
		if !errors.Is(err, resource.ErrNotFound) {
			return err
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		key = hex.EncodeToString(b[:])
		return tx.SetSetting(ctx, "", "", authzKeySetting, key)
	})
	if err != nil {
		return nil, fmt.Errorf("authorization message key: %w", err)
	}
	return hex.DecodeString(strings.TrimSpace(key))
}
