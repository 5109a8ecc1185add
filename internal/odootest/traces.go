package odootest

// traceSet holds, for one model, the frames between api.call_kw and the
// ORM's base methods on the recorded error paths: the overrides a model's
// modules stack on create, write and unlink. A model without overrides
// has an empty traceSet.
type traceSet struct {
	createOne  []frame // create(vals): down to models.py create
	createMany []frame // create([vals, ...])
	write      []frame // down to the last override before models.py write
	unlink     []frame
	// writeMissing replaces write + the base frames for a MissingError
	// on write: mail's tracking reads the missing record first.
	writeMissing []frame
}

// partnerTraces are res.partner's, from fixtures 19, 21, 48, 50 and 51.
var partnerTraces = traceSet{
	createOne: []frame{frDecoratorGen62Create2, frApiModelCreateMulti479, frAutocompletePartnerCreate213,
		frDecoratorGen23Create2, frApiModelCreateMulti480, frResPartnerCreate767, frDecoratorGen40Create2,
		frApiModelCreateMulti480, frMailThreadCreate267, frDecoratorGen0Create2, frApiModelCreateMulti480},
	createMany: []frame{frDecoratorGen62Create2, frApiModelCreateMulti480, frAutocompletePartnerCreate213,
		frDecoratorGen23Create2, frApiModelCreateMulti480, frResPartnerCreate767, frDecoratorGen40Create2,
		frApiModelCreateMulti480, frMailThreadCreate267, frDecoratorGen0Create2, frApiModelCreateMulti480},
	write: []frame{frSnailmailPartnerWrite26, frAutocompletePartnerWrite229, frResPartnerWrite751,
		frMailActivityMixinWrite242, frMailThreadWrite330},
	unlink: []frame{frMailActivityMixinUnlink247, frMailThreadUnlink345},
	writeMissing: []frame{frSnailmailPartnerWrite26, frAutocompletePartnerWrite229, frResPartnerWrite751,
		frMailActivityMixinWrite242, frMailThreadWrite327, frMailThreadTrackPrepare505, frModelsGetitem6981,
		frFieldsGet1293, frFieldsComputeValue1473, frMailThreadComputeFieldValue427,
		frModelsComputeFieldValue5220, frFieldsDetermine113, frFieldsComputeRelated698, frFieldsListcomp698,
		frModelsGetitem6981, frFieldsGet3043, frFieldsGet1272},
}

// missingInCheckAccess are the frames of a MissingError raised while
// check_access evaluates record rules on a missing record (fixture 50).
var missingInCheckAccess = []frame{frModelsCheckAccess4361, frModelsCheckAccess4402,
	frModelsFilteredDomain6583, frModelsMapped6429, frFieldsMapped1365, frFieldsGet3043, frFieldsGet1272}

// Frames of search_read down to _search (fixtures 22, 30, 31).
var searchReadFrames = []frame{frModelsSearchRead6061, frModelsSearchFetch1741}

func (t traceSet) create(many bool) []frame {
	if many {
		return t.createMany
	}
	return t.createOne
}

func (t traceSet) writeMissingFrames() []frame {
	if t.writeMissing != nil {
		return t.writeMissing
	}
	return append([]frame{frModelsWrite4641}, missingInCheckAccess...)
}
