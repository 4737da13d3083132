/* The low-level API's DAGs: the DAG and its ops are built in Go (commands.DAGBuilder, the grammar
 * of AI.DAGEXECUTE's ops), behind handles; C keeps a run's TENSORGET outputs for the caller. */
#include <string.h>

#include "go_library.h"
#include "llapi.h"

RAI_DAGRunCtx *llapi_DAGRunCtxCreate(void) {
    const gorai_go_library *go = gorai_go();
    if (go == NULL) return NULL;
    gorai_llapi_dag *dag = RedisModule_Alloc(sizeof(*dag));
    memset(dag, 0, sizeof(*dag));
    dag->builder = go->goraiLLAPIDAGNew();
    return dag;
}

/* drop_outputs releases the outputs of the DAG's last run. */
static void drop_outputs(gorai_llapi_dag *dag) {
    for (size_t i = 0; i < dag->noutputs; i++) gorai_tensor_release(dag->outputs[i]);
    RedisModule_Free(dag->outputs);
    dag->outputs = NULL;
    dag->noutputs = 0;
}

void llapi_DAGFree(RAI_DAGRunCtx *dag) {
    if (dag == NULL) return;
    drop_outputs(dag);
    gorai_go_loaded()->goraiLLAPIDAGFree(dag->builder);
    RedisModule_Free(dag);
}

static RAI_DAGRunOp *new_op(uintptr_t handle) {
    gorai_llapi_op *op = RedisModule_Alloc(sizeof(*op));
    op->op = handle;
    return op;
}

/* A NULL handle or name where the API needs one is refused (RedisAI would crash on it). */

RAI_DAGRunOp *llapi_DAGCreateModelRunOp(RAI_Model *model) {
    return model != NULL ? new_op(gorai_go_loaded()->goraiLLAPIOpNew(model, NULL, NULL)) : NULL;
}

RAI_DAGRunOp *llapi_DAGCreateScriptRunOp(RAI_Script *script, const char *func_name) {
    if (script == NULL) return NULL;
    return new_op(gorai_go_loaded()->goraiLLAPIOpNew(NULL, script, (char *)(func_name != NULL ? func_name : "")));
}

int llapi_DAGRunOpAddInput(RAI_DAGRunOp *op, const char *input) {
    if (op == NULL || input == NULL) return REDISMODULE_ERR;
    gorai_go_loaded()->goraiLLAPIOpAddName(op->op, (char *)input, 0);
    return REDISMODULE_OK;
}

int llapi_DAGRunOpAddOutput(RAI_DAGRunOp *op, const char *output) {
    if (op == NULL || output == NULL) return REDISMODULE_ERR;
    gorai_go_loaded()->goraiLLAPIOpAddName(op->op, (char *)output, 1);
    return REDISMODULE_OK;
}

void llapi_DAGRunOpFree(RAI_DAGRunOp *op) {
    if (op == NULL) return;
    gorai_go_loaded()->goraiLLAPIOpFree(op->op);
    RedisModule_Free(op);
}

/* An op added to the DAG is the DAG's: its C handle goes, the Go op stays with the builder. */
int llapi_DAGAddRunOp(RAI_DAGRunCtx *dag, RAI_DAGRunOp *op, RAI_Error *err) {
    if (op == NULL) return REDISMODULE_ERR;
    if (gorai_go_loaded()->goraiLLAPIDAGAddOp(dag->builder, op->op, err) != REDISMODULE_OK) return REDISMODULE_ERR;
    RedisModule_Free(op);
    return REDISMODULE_OK;
}

int llapi_DAGLoadTensor(RAI_DAGRunCtx *dag, const char *t_name, RAI_Tensor *tensor) {
    if (t_name == NULL || tensor == NULL) return REDISMODULE_ERR;
    return gorai_go_loaded()->goraiLLAPIDAGLoad(dag->builder, (char *)t_name, tensor);
}

int llapi_DAGAddTensorSet(RAI_DAGRunCtx *dag, const char *t_name, RAI_Tensor *tensor) {
    if (t_name == NULL || tensor == NULL) return REDISMODULE_ERR;
    return gorai_go_loaded()->goraiLLAPIDAGTensorSet(dag->builder, (char *)t_name, tensor);
}

int llapi_DAGAddTensorGet(RAI_DAGRunCtx *dag, const char *t_name) {
    if (t_name == NULL) return REDISMODULE_ERR;
    return gorai_go_loaded()->goraiLLAPIDAGTensorGet(dag->builder, (char *)t_name);
}

int llapi_DAGAddOpsFromString(RAI_DAGRunCtx *dag, const char *ops, RAI_Error *err) {
    if (ops == NULL) ops = "";
    return gorai_go_loaded()->goraiLLAPIDAGAddOpsFromString(dag->builder, (char *)ops, err);
}

size_t llapi_DAGNumOps(RAI_DAGRunCtx *dag) { return gorai_go_loaded()->goraiLLAPIDAGNumOps(dag->builder); }

int llapi_DAGRun(RAI_DAGRunCtx *dag, RAI_OnFinishCB cb, void *private_data, RAI_Error *err) {
    drop_outputs(dag);
    return gorai_go_loaded()->goraiLLAPIDAGRun(dag, cb, private_data, err);
}

