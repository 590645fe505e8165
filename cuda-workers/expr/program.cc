#include "cuda-workers/expr/program.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace aidi::worker::expr {
namespace {

class Compiler {
 public:
  Program Run(const BoundExpr& e) {
    Emit(e);
    p_.result_type = e.type;
    return std::move(p_);
  }

 private:
  void Push(const Instruction& ins, int pops) {
    p_.code.push_back(ins);
    depth_ += 1 - pops;
    p_.max_stack = std::max(p_.max_stack, depth_);
  }

  void Emit(const BoundExpr& e) {
    for (const BoundExpr& a : e.args) Emit(a);
    Instruction ins;
    ins.op = e.op;
    ins.type = e.type;
    if (!e.args.empty()) ins.operand = e.args[0].type;
    if (e.type == Type::kString) p_.uses_strings = true;
    switch (e.op) {
      case Op::kColumn: {
        auto it = std::find(p_.columns.begin(), p_.columns.end(), e.column);
        ins.arg = static_cast<int32_t>(it - p_.columns.begin());
        if (it == p_.columns.end()) {
          p_.columns.push_back(e.column);
          p_.column_types.push_back(e.type);
        }
        break;
      }
      case Op::kConstInt:
        ins.imm = e.int_value;
        break;
      case Op::kConstDouble:
        std::memcpy(&ins.imm, &e.double_value, sizeof(double));
        break;
      case Op::kConstBool:
        ins.imm = e.bool_value ? 1 : 0;
        break;
      case Op::kConstString:
        ins.arg = static_cast<int32_t>(p_.strings.size());
        p_.strings.push_back(e.text);
        break;
      default:
        break;
    }
    Push(ins, static_cast<int>(e.args.size()));
  }

  Program p_;
  int depth_ = 0;
};

}  // namespace

Program Compile(const BoundExpr& e) { return Compiler().Run(e); }

std::string Disassemble(const Program& p) {
  std::string out;
  for (const Instruction& ins : p.code) {
    out += OpName(ins.op);
    switch (ins.op) {
      case Op::kColumn:
        out += " " + std::to_string(ins.arg) + " (" + TypeName(ins.type) + ")";
        break;
      case Op::kConstInt:
      case Op::kConstBool:
        out += " " + std::to_string(ins.imm);
        break;
      case Op::kConstDouble: {
        double d;
        std::memcpy(&d, &ins.imm, sizeof d);
        char buf[40];
        std::snprintf(buf, sizeof buf, " %.17g", d);
        out += buf;
        break;
      }
      case Op::kConstString:
        out += " #" + std::to_string(ins.arg);
        break;
      default:
        out += std::string(" ") + TypeName(ins.type);
        break;
    }
    out += "\n";
  }
  return out;
}

}  // namespace aidi::worker::expr
