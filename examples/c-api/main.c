/* A C program that embeds a Kiln model: load a package, feed every input
 * a constant, run, print the outputs.
 *
 *   kiln compile model.onnx -o model.kiln
 *   kiln-c-api-example model.kiln [value]
 *
 * Build against runtime/include and link the runtime library (see
 * CMakeLists.txt next to this file). */

#include <kiln/runtime.h>

#include <stdio.h>
#include <stdlib.h>

/* Prints the failure and frees the status; returns 1 if it failed. */
static int failed(kiln_status_t status) {
  if (!status)
    return 0;
  fprintf(stderr, "error: %s\n", kiln_status_message(status));
  kiln_status_free(status);
  return 1;
}

static void print_shape(int32_t rank, const int64_t *shape) {
  printf("[");
  for (int32_t d = 0; d < rank; ++d)
    printf("%s%lld", d ? "," : "", (long long)shape[d]);
  printf("]");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.kiln [VALUE]\n", argv[0]);
    return 2;
  }
  float value = argc > 2 ? strtof(argv[2], NULL) : 0.5f;

  kiln_model_t *model = NULL;
  if (failed(kiln_model_load_file(argv[1], &model)))
    return 1;

  /* One float32 input buffer per input, filled with `value`. Symbolic
   * dimensions are given 1 here. */
  size_t input_count = kiln_model_input_count(model);
  kiln_tensor_t *inputs = calloc(input_count, sizeof(kiln_tensor_t));
  int64_t(*shapes)[8] = calloc(input_count, sizeof(*shapes));
  int status = 1;
  for (size_t i = 0; i < input_count; ++i) {
    kiln_tensor_info_t info;
    if (failed(kiln_model_input_info(model, i, &info)))
      goto done;
    if (info.dtype != KILN_DTYPE_FLOAT32 || info.rank > 8) {
      fprintf(stderr, "error: this example feeds only float32 inputs of "
                      "rank <= 8; input '%s' is %s\n",
              info.name, kiln_dtype_name(info.dtype));
      goto done;
    }
    size_t count = 1;
    for (int32_t d = 0; d < info.rank; ++d) {
      shapes[i][d] = info.shape[d] < 0 ? 1 : info.shape[d];
      count *= (size_t)shapes[i][d];
    }
    float *data = malloc(count * sizeof(float));
    for (size_t k = 0; k < count; ++k)
      data[k] = value;
    inputs[i] = (kiln_tensor_t){info.name, info.dtype, info.rank, shapes[i],
                                data, count * sizeof(float)};
    printf("input %s: float32", info.name);
    print_shape(info.rank, shapes[i]);
    printf(" = %g\n", value);
  }

  kiln_session_t *session = NULL;
  if (failed(kiln_session_create(model, NULL, &session)))
    goto done;
  /* Outputs with data == NULL: the session allocates them. */
  size_t output_count = kiln_model_output_count(model);
  kiln_tensor_t *outputs = calloc(output_count, sizeof(kiln_tensor_t));
  if (!failed(kiln_session_run(session, inputs, input_count, outputs,
                               output_count))) {
    for (size_t i = 0; i < output_count; ++i) {
      kiln_tensor_info_t info;
      kiln_model_output_info(model, i, &info);
      printf("output %s: %s", info.name, kiln_dtype_name(outputs[i].dtype));
      print_shape(outputs[i].rank, outputs[i].shape);
      if (outputs[i].dtype == KILN_DTYPE_FLOAT32) {
        const float *data = outputs[i].data;
        size_t count = outputs[i].byte_size / sizeof(float);
        printf(" =");
        for (size_t k = 0; k < count && k < 10; ++k)
          printf(" %.6g", data[k]);
        printf(count > 10 ? " ...\n" : "\n");
      } else {
        printf("\n");
      }
    }
    status = 0;
  }
  free(outputs);
  kiln_session_release(session);

done:
  for (size_t i = 0; i < input_count; ++i)
    free(inputs[i].data);
  free(inputs);
  free(shapes);
  kiln_model_release(model);
  return status;
}
