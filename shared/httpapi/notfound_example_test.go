package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/surgekit/surge/shared/httpapi"
)

func ExampleNotFound() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/keys", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/", httpapi.NotFound)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/nothing", nil))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 404 {"error":{"code":"not_found","message":"no route for GET /v1/nothing"}}
}
