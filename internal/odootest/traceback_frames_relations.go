package odootest

// Frames of the 18.0/relations tracebacks (dotted paths in domains,
// orders and groupbys), copied from the fixtures as traceback_frames.go's.
var (
	frExpressionAnyfyLeaves374               = frame{pkgOdoo + "osv/expression.py", 374, "_anyfy_leaves", `raise ValueError(f"Invalid field {model._name}.{path[0]} in leaf {item}")`, ``}
	frExpressionAnyfyLeaves378               = frame{pkgOdoo + "osv/expression.py", 378, "_anyfy_leaves", `result.append((path[0], 'any', _anyfy_leaves(subdomain, comodel)))`, `                               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frExpressionDomainCombineAnies599        = frame{pkgOdoo + "osv/expression.py", 599, "domain_combine_anies", `domain_any = _anyfy_leaves(domain, model)`, `             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frExpressionInit781                      = frame{pkgOdoo + "osv/expression.py", 781, "__init__", `self.expression = domain_combine_anies(domain, model)`, `                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsFieldToSQL2935                   = frame{pkgOdoo + "models.py", 2935, "_field_to_sql", `raise ValueError(f"Invalid field {fname!r} on model {self._name!r}")`, ``}
	frModelsOrderFieldToSQL5584              = frame{pkgOdoo + "models.py", 5584, "_order_field_to_sql", `sql_field = self._field_to_sql(alias, field_name, query)`, `            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsOrderToSQL5549                   = frame{pkgOdoo + "models.py", 5549, "_order_to_sql", `term = self._order_field_to_sql(alias, field_name, sql_direction, sql_nulls, query)`, `       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsReadGroup2800                    = frame{pkgOdoo + "models.py", 2800, "read_group", `annotated_groupby = self._read_group_get_annotated_groupby(groupby, lazy=lazy)`, `                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsReadGroupGetAnnotatedGroupby2744 = frame{pkgOdoo + "models.py", 2744, "_read_group_get_annotated_groupby", `raise ValueError(f"Property name {property_name!r} has to be used on a property field.")`, ``}
	frModelsSearch5740                       = frame{pkgOdoo + "models.py", 5740, "_search", `query.order = self._order_to_sql(order, query)`, `              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsSearchCount1694                  = frame{pkgOdoo + "models.py", 1694, "search_count", `query = self._search(domain, limit=limit)`, `        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}

	// search down to the query that fails (18.0/relations/39).
	frModelsSearch1717      = frame{pkgOdoo + "models.py", 1717, "search", `return self.search_fetch(domain, [], offset=offset, limit=limit, order=order)`, `       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsSearchFetch1749 = frame{pkgOdoo + "models.py", 1749, "search_fetch", `return self._fetch_query(query, fields_to_fetch)`, `       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frModelsFetchQuery4183  = frame{pkgOdoo + "models.py", 4183, "_fetch_query", `fetched = self.browse(query)`, `          ^^^^^^^^^^^^^^^^^^`}
	frModelsBrowse6157      = frame{pkgOdoo + "models.py", 6157, "browse", `if not ids:`, ``}
	frQueryBool261          = frame{pkgOdoo + "tools/query.py", 261, "__bool__", `return bool(self.get_result_ids())`, `            ^^^^^^^^^^^^^^^^^^^^^`}
	frQueryGetResultIDs225  = frame{pkgOdoo + "tools/query.py", 225, "get_result_ids", `self._ids = tuple(id_ for id_, in self._env.execute_query(self.select()))`, `                                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^`}
	frAPIExecuteQuery962    = frame{pkgOdoo + "api.py", 962, "execute_query", `self.cr.execute(query)`, ``}
)
