// Helpers the end-to-end files share: waiting for a page's data, signing in
// through the login form, and finding a fleet row.

/** The page has its heading and nothing is loading any more. */
export async function settled(page) {
  await page.waitForSelector('h1');
  await page.waitForFunction(() => !document.querySelector('.state-loading'), null, { timeout: 15000 });
}

/**
 * Signs in through the login form of the controller at `baseUrl`;
 * `onFailure(page)` runs before the error is rethrown (e.g. a screenshot).
 */
export async function signInAt(page, { username, password }, baseUrl, onFailure = async () => {}) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  try {
    // Signed in: the frame with its live indicator (Log out sits in the menu on a phone).
    await page.locator('header.topbar [data-live-mode]').waitFor({ timeout: 15000 });
  } catch (e) {
    await onFailure(page);
    throw e;
  }
}

/** An orchestrator's row in a fleet list. */
export const row = (page, id) => page.locator(`tr[data-orchestrator="${id}"]`);

/** The page has subscribed to the controller's event stream. */
export const waitLive = (page) => page.locator('[data-live-mode="live"]').waitFor({ timeout: 10000 });
