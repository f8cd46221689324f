import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { waitText } from './LoginPage';
import { FakeController, FakeSocket, page, renderApp, superadmin, uiConfig } from '../test/fakes';

function controller() {
  return new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/controller/overview', () => ({
      success: true,
      data: { total_organizations: 1, active_orchestrators: 2, inactive_orchestrators: 1, independent_orchestrators: 0, total_orchestrators: 3, total_users: 1 },
    }))
    .on('GET /api/v1/controller/organizations', () => page([]))
    .on('GET /api/v1/internal/audit', () => page([]));
}

async function signIn(user: string, pass: string) {
  await userEvent.type(screen.getByLabelText('Username'), user);
  await userEvent.type(screen.getByLabelText('Password'), pass);
  await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('waitText', () => {
  it('reads well for short and long waits', () => {
    expect(waitText(30)).toBe('30 s');
    expect(waitText(900)).toBe('15 min');
    expect(waitText(125)).toBe('2 min 5 s');
  });
});

describe('LoginPage', () => {
  beforeEach(() => FakeSocket.reset());

  it('sends you to the login page when not signed in', () => {
    renderApp(controller(), '/orchestrators');
    expect(screen.getByRole('heading', { name: 'Moolai Controller' })).toBeInTheDocument();
  });

  it('an empty submit moves focus to the first empty field and marks the empty ones', async () => {
    const api = controller();
    renderApp(api, '/login');
    await userEvent.type(screen.getByLabelText('Username'), 'admin');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Enter your password.');
    expect(screen.getByLabelText('Password')).toHaveFocus();
    expect(screen.getByLabelText('Password')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription('Enter your password.');
    expect(screen.getByLabelText('Username')).not.toHaveAttribute('aria-invalid');
    expect(api.callsTo('POST /api/v1/internal/auth/login')).toHaveLength(0);
  });

  it('says so when the password is wrong', async () => {
    const api = controller().on('POST /api/v1/internal/auth/login', () => ({
      status: 401,
      body: { success: false, error: { code: 'invalid_credentials', message: 'invalid username or password' } },
    }));
    renderApp(api, '/login');
    await signIn('admin', 'wrong');
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid username or password.');
    expect(screen.getByLabelText('Password')).toHaveValue('');
  });

  it('shows the throttle with its Retry-After and blocks the button meanwhile', async () => {
    const api = controller().on('POST /api/v1/internal/auth/login', () => ({
      status: 429,
      headers: { 'Retry-After': '30' },
      body: { success: false, error: { code: 'too_many_attempts', message: 'too many failed logins' } },
    }));
    renderApp(api, '/login');
    await signIn('admin', 'x');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Too many failed sign-in attempts');
    expect(alert).toHaveTextContent('Try again in 30 s.');
    expect(screen.getByRole('button', { name: 'Wait 30 s' })).toBeDisabled();
  });

  it('signs in, keeps the session and shows the overview', async () => {
    const api = controller().on('POST /api/v1/internal/auth/login', (req) => {
      expect(req.body).toEqual({ username: 'admin', password: 'secret-pass-1' });
      return { success: true, user: superadmin };
    });
    renderApp(api, '/login');
    await signIn('admin', 'secret-pass-1');
    expect(await screen.findByRole('heading', { name: 'Overview' })).toBeInTheDocument();
    expect(await screen.findByTestId('count-active (heartbeat)')).toHaveTextContent('2');
    expect(JSON.parse(localStorage.getItem('moolai.session') ?? '{}').token).toBe('tok-admin');
    const overviewCall = api.callsTo('GET /api/v1/controller/overview')[0]!;
    expect(overviewCall.headers.Authorization).toBe('Bearer tok-admin');
  });
});
