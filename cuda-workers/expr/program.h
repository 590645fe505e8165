// Program: a bound expression compiled to flat postfix bytecode over a typed value stack, the
// form both the CPU reference evaluator (eval.h) and the CUDA kernel interpret row by row.
//
// Layout (POD-like so it can be copied to device memory as is): `code` is an array of 16-byte
// Instructions executed in order; each pops its operands (0, 1 or 2) and pushes one value with
// a validity bit. Column loads name an input slot (`arg`); `columns[slot]` is the schema index
// the caller must supply there. Int64/Double/Bool constants live in `imm` (a double's bits for
// Double); string constants in the side table `strings` (`arg` indexes it). String columns and
// constants are CPU-only: `uses_strings` tells the GPU path to decline the expression.
// A Program is an immutable value after Compile; share it read-only between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cuda-workers/expr/bind.h"

namespace aidi::worker::expr {

struct Instruction {
  Op op = Op::kConstNull;
  Type type = Type::kBool;     // type of the value this instruction pushes
  Type operand = Type::kBool;  // type of the values it pops (all alike), when it pops any
  uint8_t reserved = 0;
  int32_t arg = 0;  // kColumn: input slot; kConstString: index into Program::strings
  int64_t imm = 0;  // kConstInt: value; kConstDouble: bit pattern; kConstBool: 0 or 1
};
static_assert(sizeof(Instruction) == 16, "Instruction is a fixed 16-byte record");

struct Program {
  std::vector<Instruction> code;
  std::vector<std::string> strings;  // string constants
  std::vector<int32_t> columns;      // input slot -> schema column index
  std::vector<Type> column_types;    // input slot -> expected column type
  int32_t max_stack = 0;             // deepest the value stack gets
  Type result_type = Type::kBool;
  bool uses_strings = false;
};

Program Compile(const BoundExpr& e);

// One instruction per line, e.g. "column 0 (Int64)\nconst_int 5\ngt Bool\n"; for tests/logs.
std::string Disassemble(const Program& p);

}  // namespace aidi::worker::expr
