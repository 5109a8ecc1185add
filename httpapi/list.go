package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// MaxLimit is the largest page size any list answers.
const MaxLimit = 100

// Pagination describes one page of a list.
type Pagination struct {
	Page  int   `json:"page"`
	Limit int   `json:"limit"`
	Total int64 `json:"total"`
	Pages int64 `json:"pages"`
}

// List is the envelope of every list answer.
type List[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// NewList builds the envelope; data is never null.
func NewList[T any](data []T, page, limit int, total int64) List[T] {
	if data == nil {
		data = []T{}
	}
	pages := (total + int64(limit) - 1) / int64(limit)
	return List[T]{Data: data, Pagination: Pagination{Page: page, Limit: limit, Total: total, Pages: pages}}
}

// PageParams reads page (from 1) and limit (default def, 1..MaxLimit) from
// the query. Out-of-range values are a 400, not silently changed, except a
// limit above MaxLimit, which is capped as documented.
func PageParams(c echo.Context, def int) (page, limit int, err error) {
	page, limit = 1, def
	if s := c.QueryParam("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 {
			return 0, 0, Errorf(http.StatusBadRequest, "page must be a whole number from 1")
		}
	}
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			return 0, 0, Errorf(http.StatusBadRequest, "limit must be a whole number from 1 to %d", MaxLimit)
		}
	}
	return page, min(limit, MaxLimit), nil
}
