/** Rules across keys of `transform`: the label rules. */
import { child, issueSink, labelRuleIssues, type CrossCheck } from './rules.js';

export const transformChecks: CrossCheck = (doc, found) => {
  labelRuleIssues(
    child(child(doc, 'transform'), 'labels'),
    ['transform', 'labels'],
    issueSink(found),
  );
};
