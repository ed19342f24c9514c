import { describe, expect, it } from "vitest";
import { auditedAction } from "../../src-main/actions/audit-log";
import { assessRisk } from "../../src-main/actions/policy";
import { describeAction, isSecretStep } from "../../src-renderer/src/format/describe-action";
import { type Action, SECRET_FIELD_REASON } from "../../src-shared/actions";

const typing: Action = { type: "type", text: "hunter2!", target: { kind: "element", elementId: 3 } };

describe("typed secrets", () => {
  it("are shown masked for a step the policy marks as typing into a password field", () => {
    const risk = assessRisk(typing, { targetText: "Password" });
    expect(risk.reasons).toContain(SECRET_FIELD_REASON);
    const shown = describeAction(typing, { secret: isSecretStep({ risk }) });
    expect(shown).not.toContain("hunter2");
    expect(shown).toContain("(hidden)");
    expect(describeAction(typing)).toContain("hunter2!");
  });

  it("never reach the audit log, only their length", () => {
    expect(auditedAction(typing)).toEqual({ ...typing, text: "[8 characters]" });
    const click: Action = { type: "click", button: "left", count: 1, target: { kind: "element", elementId: 1 } };
    expect(auditedAction(click)).toBe(click);
  });
});
