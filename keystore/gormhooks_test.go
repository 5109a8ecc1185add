package keystore

import (
	"sync"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

type hooked struct{ ID int }

func (*hooked) BeforeCreate(*gorm.DB) error { return nil }
func (*hooked) AfterFind(*gorm.DB) error    { return nil }

// gorm is built from third_party/gorm, whose patch changes how a model's
// hook methods are found (third_party/README.md): the methods a model has
// are found, and only those.
func TestGormFindsHooks(t *testing.T) {
	s, err := schema.Parse(&hooked{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{
		"BeforeCreate": s.BeforeCreate, "AfterCreate": s.AfterCreate, "BeforeUpdate": s.BeforeUpdate,
		"AfterUpdate": s.AfterUpdate, "BeforeSave": s.BeforeSave, "AfterSave": s.AfterSave,
		"BeforeDelete": s.BeforeDelete, "AfterDelete": s.AfterDelete, "AfterFind": s.AfterFind,
	}
	for name, found := range got {
		if want := name == "BeforeCreate" || name == "AfterFind"; found != want {
			t.Errorf("%s found %v, want %v", name, found, want)
		}
	}
}
