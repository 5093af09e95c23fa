package ec2

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/amigo-ec2/amigo/internal/ec2api"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

// Every action served decodes into the model's input type for it.
func TestActionsUseTheModelTypes(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "amigo.db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	images, err := image.NewService(t.Context(), st, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	actions := Actions(Services{Images: images, Instances: instance.NewService(st, images, instance.Options{})})
	if len(actions) != 46 {
		t.Errorf("%d actions served, want 46", len(actions))
	}
	for name, a := range actions {
		op, ok := ec2api.Operations[name]
		if !ok {
			t.Errorf("%s is not in the model", name)
			continue
		}
		if got, want := reflect.TypeOf(a.New()), reflect.TypeOf(op.New()); got != want {
			t.Errorf("%s decodes into %v, model says %v", name, got, want)
		}
		if a.New() == a.New() {
			t.Errorf("%s: New shares its value", name)
		}
	}
}

func TestHandleRefusesAMismatch(t *testing.T) {
	for name, f := range map[string]func(){
		"wrong type": func() {
			handle(map[string]Action{}, "DescribeImages", func(context.Context, resource.Caller, *ec2api.DescribeTagsRequest) (any, error) { return nil, nil })
		},
		"not in the model": func() {
			handle(map[string]Action{}, "LaunchRocket", func(context.Context, resource.Caller, *ec2api.DescribeTagsRequest) (any, error) { return nil, nil })
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: handle did not panic", name)
				}
			}()
			f()
		}()
	}
}
