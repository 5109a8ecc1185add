package odootest

import (
	"strconv"
	"strings"
)

// object is odoo.service.model.dispatch: check the credentials, then
// execute or execute_kw.
func (s *Server) object(method string, params []any) (any, *exception) {
	if len(params) < 3 {
		return nil, newException(clsIndexError, "list index out of range")
	}
	uid, err := pyInt(params[1])
	if err != nil {
		return nil, err
	}
	e, err := s.securityCheck(params[0], uid, params[2])
	if err != nil {
		return nil, err.under(frModelDispatch30)
	}
	switch method {
	case "execute":
		res, err := s.executePositional(e, params[3:])
		return res, under(err, frModelDispatch37)
	case "execute_kw":
		res, err := s.executeKW(e, params[3:])
		return res, under(err, frModelDispatch39)
	}
	return nil, newException(clsNameError, "Method not available "+method, frModelDispatch41)
}

func under(err *exception, fs ...frame) *exception {
	if err == nil {
		return nil
	}
	return err.under(fs...)
}

// pyInt is Python's int() of the uid parameter.
func pyInt(v any) (int64, *exception) {
	switch x := v.(type) {
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, valueError("invalid literal for int() with base 10: " + pyRepr(x))
		}
		return i, nil
	case nil, []any, Object:
		return 0, typeError("int() argument must be a string, a bytes-like object or a real number, not '" +
			pyTypeName(v) + "'")
	}
	i, _ := asInt(v)
	if f, ok := v.(float64); ok {
		i = int64(f)
	}
	return i, nil
}

// securityCheck is odoo.service.security.check (res.users.check): the
// user must exist (MissingError otherwise, whatever the password), be
// active, and the password or an RPC key must match.
func (s *Server) securityCheck(db any, uid int64, password any) (*env, *exception) {
	check := []frame{frSecurityCheck11, frDecoratorFun232, frCacheLookup110}
	if err := s.checkDatabase(db); err != nil {
		return nil, err.under(frSecurityCheck11)
	}
	if !truthy(password) {
		return nil, accessDenied(check...)
	}
	u := s.db.user(uid)
	if u == nil {
		return nil, missingRecord("res.users", []int64{uid}, uid, append(check, frResUsersCheck991, frFieldsGet1272)...)
	}
	if !u.active {
		return nil, accessDenied(append(check, frResUsersCheck991)...)
	}
	if !u.checkPassword(password) {
		return nil, accessDenied(append(check, frResUsersCheck994, frResUsersCheckCredentials2284)...)
	}
	return &env{db: s.db, uid: uid, user: u, activeTest: true, now: s.cfg.Now().UTC(), version: s.cfg.Version}, nil
}

// executeKW is execute_kw(db, uid, obj, method, args, kw=None).
func (s *Server) executeKW(e *env, params []any) (any, *exception) {
	if err := arity("execute_kw", append([]any{nil, nil}, params...), 5, "db", "uid", "obj", "method", "args", "kw"); err != nil {
		return nil, err
	}
	args, ok := asList(params[2])
	if !ok {
		return nil, typeError("odoo.service.model.execute() argument after * must be an iterable, not " + pyTypeName(params[2]))
	}
	var kw Object
	if len(params) == 4 && truthy(params[3]) {
		if kw, ok = params[3].(Object); !ok {
			return nil, typeError("odoo.service.model.execute() argument after ** must be a mapping, not " + pyTypeName(params[3]))
		}
	}
	res, err := s.execute(e, params[0], params[1], args, kw)
	return res, under(err, frModelExecuteKw61)
}

// executePositional is execute(db, uid, obj, method, *args).
func (s *Server) executePositional(e *env, params []any) (any, *exception) {
	if len(params) < 2 {
		return nil, arity("execute", append([]any{nil, nil}, params...), 4, "db", "uid", "obj", "method")
	}
	return s.execute(e, params[0], params[1], params[2:], nil)
}

// execute runs one model method in a transaction, with Odoo's checks in
// Odoo's order: private method, model, then api.call_kw (retried by
// retrying, which turns database integrity errors into ValidationErrors).
func (s *Server) execute(e *env, obj, method any, args []any, kw Object) (any, *exception) {
	name, ok := method.(string)
	if !ok {
		return nil, newException(clsAttributeError, "'"+pyTypeName(method)+"' object has no attribute 'startswith'")
	}
	if strings.HasPrefix(name, "_") || name == "init" {
		return nil, newException(clsAccessError, "Private methods (such as "+name+") cannot be called remotely.",
			frModelExecute67, frModelsCheckMethodName158)
	}
	modelName, _ := obj.(string)
	m := registry[modelName]
	if m == nil && relatedModel(e.version, modelName) {
		return nil, notModelled("model " + modelName + " (a comodel of fields Odoo " + e.version + " describes)")
	}
	if m == nil {
		return nil, newException(clsUserError, "Object "+pyStr(obj)+" doesn't exist", frModelExecute68, frModelExecuteCr51)
	}
	res, err := s.transaction(e, m, name, args, kw)
	if err != nil {
		return nil, retrying(err).under(frModelExecute68, frModelExecuteCr52)
	}
	return res, nil
}

func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// transaction runs call_kw and rolls the database back when it fails, as
// Odoo's cursor does. Sequences are not rolled back, as in Postgres.
func (s *Server) transaction(e *env, m *model, name string, args []any, kw Object) (any, *exception) {
	if !writeMethods[name] {
		return callKW(e, m, name, args, kw)
	}
	saved := s.db.snapshot()
	committed := false
	defer func() {
		if !committed {
			s.db.restore(saved)
		}
	}()
	res, err := callKW(e, m, name, args, kw)
	committed = err == nil
	return res, err
}

// retrying is the frame of odoo.service.model.retrying: an IntegrityError
// becomes a ValidationError raised from it, the SQL error chained as its
// cause.
func retrying(err *exception) *exception {
	ie := err.integrity
	if ie == nil {
		return err.under(frModelRetrying137)
	}
	cause := &exception{class: ie.class, frames: append([]frame{frModelRetrying137}, err.frames...)}
	text := cause.traceback(nil)
	text = strings.TrimSuffix(text, cause.lastLine()+"\n") + ie.class + ": " + ie.pgMessage + "\n"
	return &exception{class: clsValidationError, args: []any{ie.validation}, cause: text,
		frames: []frame{frModelRetrying156}}
}

// callKW is odoo.api.call_kw: find the method, take the ids of a record
// method, apply the context, bind the arguments and call.
func callKW(e *env, m *model, name string, args []any, kw Object) (any, *exception) {
	meth := methodOf(e, name)
	if meth == nil {
		if notModelledMethods[name] {
			return nil, notModelled(m.name + "." + name)
		}
		return nil, newException(clsAttributeError, "The method '"+name+"' does not exist on the model '"+m.name+"'",
			frApiCallKw500)
	}
	if m.describedOnly && name != "fields_get" {
		return nil, notModelled(m.name + "." + name + " (the double describes " + m.name +
			" for fields_get but holds none of its records)")
	}
	kw = applyContext(e, kw)
	c := &call{e: e, m: m, name: name}
	if meth.record {
		if len(args) == 0 {
			return nil, newException(clsIndexError, "tuple index out of range")
		}
		ids, err := parseIDs(args[0])
		if err != nil {
			return nil, err.under(frApiCallKw517)
		}
		c.ids, args = ids, args[1:]
	}
	bound, extra, err := bind(name, meth, args, kw)
	if err != nil {
		return nil, err.under(frApiCallKw517)
	}
	c.args, c.kw = bound, extra
	res, err := meth.run(c)
	return res, under(err, frApiCallKw517)
}

// applyContext pops the context from the keyword arguments and applies
// what the double honours of it: active_test, and default_<field> values
// for the records the call creates.
func applyContext(e *env, kw Object) Object {
	out := Object{}
	for _, p := range kw {
		if p.Key != "context" {
			out = append(out, p)
			continue
		}
		if ctx, ok := p.Value.(Object); ok {
			if v, ok := ctx.Get("active_test"); ok {
				e.activeTest = truthy(v)
			}
			for _, kv := range ctx {
				if name, ok := strings.CutPrefix(kv.Key, "default_"); ok && name != "" {
					e.defaults = e.defaults.set(name, kv.Value)
				}
			}
		}
	}
	return out
}
