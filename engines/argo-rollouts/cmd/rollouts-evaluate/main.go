// Command rollouts-evaluate runs analysis conditions through the controller's own evaluator
// (github.com/argoproj/argo-rollouts/utils/evaluate), the oracle for votectl's Python expr-lang evaluator.
//
// Input, one JSON object per line on stdin:
//
//	{"id": "...", "success": "result < 0.05", "failure": "", "result": {"scalar": "NaN"}}
//	{"id": "...", "success": "...", "failure": "...", "result": {"vector": ["0.01", "+Inf"]}}
//
// Numbers are strings parsed by strconv.ParseFloat, so NaN and ±Inf (which JSON cannot carry) pass
// exactly; a scalar reaches EvaluateResult as float64 and a vector as a non-nil []float64, the very
// types the Prometheus provider passes (metricproviders/prometheus: *model.Scalar -> float64, Vector
// and Matrix -> []float64, empty but not nil when no series matched).
//
// Output, one JSON object per input line, in order:
//
//	{"id": "...", "phase": "Successful|Failed|Inconclusive|Error", "error": "..."}
//
// "Error" is what EvaluateResult returns with an error (the controller marks the measurement Error).
// A line that cannot be decoded gets phase "Invalid"; a panic escaping the evaluator gets "Panic" (the
// controller would crash there); neither is a measurement phase, so a comparison can never match them.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	"github.com/sirupsen/logrus"
)

type request struct {
	ID      string `json:"id"`
	Success string `json:"success"`
	Failure string `json:"failure"`
	Result  struct {
		Scalar *string   `json:"scalar"`
		Vector *[]string `json:"vector"`
	} `json:"result"`
}

type response struct {
	ID    string `json:"id"`
	Phase string `json:"phase"`
	Error string `json:"error,omitempty"`
}

// result gives the value exactly as the Prometheus provider would hand it to EvaluateResult.
func (r *request) result() (any, error) {
	switch {
	case r.Result.Scalar != nil && r.Result.Vector == nil:
		return strconv.ParseFloat(*r.Result.Scalar, 64)
	case r.Result.Vector != nil && r.Result.Scalar == nil:
		values := make([]float64, 0, len(*r.Result.Vector))
		for _, text := range *r.Result.Vector {
			value, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, err
			}
			values = append(values, value)
		}
		return values, nil
	}
	return nil, errors.New(`result must be exactly one of {"scalar": "<float>"} or {"vector": ["<float>", ...]}`)
}

// evaluateOne calls the controller's EvaluateResult with a Metric carrying the two conditions.
func evaluateOne(r *request, log *logrus.Entry) (out response) {
	out.ID = r.ID
	result, err := r.result()
	if err != nil {
		return response{ID: r.ID, Phase: "Invalid", Error: err.Error()}
	}
	defer func() {
		if p := recover(); p != nil {
			out = response{ID: r.ID, Phase: "Panic", Error: fmt.Sprint(p)}
		}
	}()
	metric := v1alpha1.Metric{Name: r.ID, SuccessCondition: r.Success, FailureCondition: r.Failure}
	phase, err := evaluate.EvaluateResult(result, metric, *log)
	out.Phase = string(phase)
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

func main() {
	log := logrus.NewEntry(logrus.New())
	in := json.NewDecoder(bufio.NewReader(os.Stdin))
	writer := bufio.NewWriter(os.Stdout)
	out := json.NewEncoder(writer)
	out.SetEscapeHTML(false)
	for {
		var r request
		err := in.Decode(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // the stream cannot be resynchronised after malformed JSON
			fmt.Fprintln(os.Stderr, "rollouts-evaluate: bad input:", err)
			writer.Flush()
			os.Exit(2)
		}
		if err := out.Encode(evaluateOne(&r, log)); err != nil {
			fmt.Fprintln(os.Stderr, "rollouts-evaluate:", err)
			os.Exit(1)
		}
	}
	if err := writer.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "rollouts-evaluate:", err)
		os.Exit(1)
	}
}
