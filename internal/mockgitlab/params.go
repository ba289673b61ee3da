package mockgitlab

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBodyBytes bounds request bodies; URL configurations carry at most a few 16 KB certificates.
const maxBodyBytes = 4 << 20

// paramValue is one request parameter as received.
type paramValue struct {
	str       string
	null      bool // JSON null
	composite bool // JSON object or array: invalid where a scalar is declared
	// items are the elements of a JSON array whose elements are all scalars, as Grape coerces them for an
	// Array[String] parameter; nil otherwise.
	items []string
}

// params are the request parameters: the query string merged with a JSON or form body (body wins), as
// GitLab accepts either.
type params map[string]paramValue

// queryParams reads the parameters of the query string.
func queryParams(r *http.Request) params {
	p := params{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p[k] = paramValue{str: vs[len(vs)-1]}
		}
	}
	return p
}

// readParams parses the query string and the body of r.
func readParams(r *http.Request) (params, *response) {
	p := queryParams(r)
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		return nil, grapeError(400, "message body does not match declared format")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	mediaType, mediaParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			return nil, grapeError(400, "message body does not match declared format")
		}
		for k, v := range obj {
			p[k] = jsonParamValue(v)
		}
	case mediaType == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, grapeError(400, "message body does not match declared format")
		}
		for k, vs := range vals {
			p[k] = paramValue{str: vs[len(vs)-1]}
		}
	case mediaType == "multipart/form-data":
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.Header.Set("Content-Type", mime.FormatMediaType(mediaType, mediaParams))
		if err := r2.ParseMultipartForm(maxBodyBytes); err != nil {
			return nil, grapeError(400, "message body does not match declared format")
		}
		for k, vs := range r2.MultipartForm.Value {
			if len(vs) > 0 {
				p[k] = paramValue{str: vs[len(vs)-1]}
			}
		}
	}
	return p, nil
}

// jsonParamValue converts a decoded JSON value; scalars become their text as Grape would coerce them.
func jsonParamValue(v any) paramValue {
	switch x := v.(type) {
	case nil:
		return paramValue{null: true}
	case string:
		return paramValue{str: x}
	case json.Number:
		return paramValue{str: x.String()}
	case bool:
		return paramValue{str: strconv.FormatBool(x)}
	case []any:
		items := make([]string, 0, len(x))
		for _, e := range x {
			item := jsonParamValue(e)
			if item.composite || item.null {
				return paramValue{composite: true}
			}
			items = append(items, item.str)
		}
		return paramValue{composite: true, items: items}
	default:
		return paramValue{composite: true}
	}
}

// get returns a parameter's value and whether it was sent.
func (p params) get(name string) (paramValue, bool) {
	v, ok := p[name]
	return v, ok
}

// requiredString validates a `requires :name, type: String` parameter, appending Grape's message to
// errs. A JSON null passes Grape's presence check and reaches the model as blank.
func (p params) requiredString(name string, errs *[]string) string {
	v, ok := p[name]
	switch {
	case !ok:
		*errs = append(*errs, name+" is missing")
	case v.composite:
		*errs = append(*errs, name+" is invalid")
	}
	return v.str
}

// optionalString validates an `optional :name, type: String` parameter. It returns nil when the
// parameter was not sent or was null.
func (p params) optionalString(name string, errs *[]string) *string {
	v, ok := p[name]
	if !ok || v.null {
		return nil
	}
	if v.composite {
		*errs = append(*errs, name+" is invalid")
		return nil
	}
	s := v.str
	return &s
}

// optionalInt validates an `optional :name, type: Integer` parameter; ok is false when it was not sent
// (or was empty or null).
func (p params) optionalInt(name string, errs *[]string) (n int64, ok bool) {
	v, sent := p[name]
	if !sent || v.null || (!v.composite && v.str == "") {
		return 0, false
	}
	if v.composite {
		*errs = append(*errs, name+" is invalid")
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.str), 10, 64)
	if err != nil {
		*errs = append(*errs, name+" is invalid")
		return 0, false
	}
	return n, true
}

// routeInt validates an Integer route parameter such as agent_id (the segment is still escaped).
func routeInt(segment, name string, errs *[]string) int64 {
	s, err := url.PathUnescape(segment)
	if err == nil {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	*errs = append(*errs, name+" is invalid")
	return 0
}
