// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IManager} from "./Interfaces.sol";
import {CONTROLLER_ROLE} from "./Types.sol";

/// Native-coin vault. Every account's funds sit in exactly one of: balanceOf
/// (liquid), frozenPayment (task escrow, keyed by client), lockupOf, unbondingOf
/// or sanctionOf; their sum over all accounts equals the contract's balance.
contract Vault {
    uint256 public MIN_LOCKUP_PER_SOURCE = 1 ether;
    uint256 public UNBONDING_PERIOD = 7 days;

    address public manager;
    address public nexus;
    address public terminal;

    mapping(address => uint256) public balanceOf;
    mapping(address => uint256) public frozenPayment;
    mapping(address => uint256) public lockupOf;
    mapping(address => uint256) public unbondingOf;
    mapping(address => uint256) public unbondingTimestamp;
    mapping(address => uint256) public totalEarningsOf;
    mapping(address => uint256) public sanctionOf;
    mapping(address => bool) public isWhitelisted;
    uint256 public sanctionedAmount;

    // task => client that paid the escrow, and the escrowed amount.
    mapping(address => address) private _payerOf;
    mapping(address => uint256) private _escrowOf;

    event Claimed(address account, uint256 amount);
    event Deposited(address account, uint256 amount);
    event Locked(address account, uint256 amount);
    event Sanctioned(address account, uint256 amount);
    event Unbonded(address account, uint256 amount);
    event UnbondingCanceled(address account, uint256 amount);
    event Waived(address account, uint256 amount);
    event Withdrawn(address account, uint256 amount);

    modifier onlyAdmin() {
        require(IManager(manager).hasRole(0x00, msg.sender), "NotAdmin");
        _;
    }

    modifier onlyProtocol() {
        require(
            msg.sender == nexus || IManager(manager).hasRole(CONTROLLER_ROLE, msg.sender),
            "NotController"
        );
        _;
    }

    constructor(address _manager, address _nexus, address _terminal) {
        manager = _manager;
        nexus = _nexus;
        terminal = _terminal;
    }

    // ---- account operations ----

    function deposit(address account) external payable {
        require(account != address(0), "InvalidAddress");
        require(msg.value > 0, "ZeroAmount");
        balanceOf[account] += msg.value;
        emit Deposited(account, msg.value);
    }

    function withdraw(uint256 amount) external {
        require(amount > 0, "ZeroAmount");
        require(balanceOf[msg.sender] >= amount, "InsufficientBalance");
        balanceOf[msg.sender] -= amount;
        _send(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    function lock(uint256 amount) external {
        require(amount > 0, "ZeroAmount");
        require(balanceOf[msg.sender] >= amount, "InsufficientBalance");
        balanceOf[msg.sender] -= amount;
        lockupOf[msg.sender] += amount;
        emit Locked(msg.sender, amount);
    }

    /// Moves lockup to unbonding and restarts the unbonding clock.
    function unbond(uint256 amount) external {
        require(amount > 0, "ZeroAmount");
        require(lockupOf[msg.sender] >= amount, "InsufficientLockup");
        lockupOf[msg.sender] -= amount;
        unbondingOf[msg.sender] += amount;
        unbondingTimestamp[msg.sender] = block.timestamp + UNBONDING_PERIOD;
        emit Unbonded(msg.sender, amount);
    }

    function cancelUnbonding() external {
        uint256 amount = unbondingOf[msg.sender];
        require(amount > 0, "NothingUnbonding");
        unbondingOf[msg.sender] = 0;
        unbondingTimestamp[msg.sender] = 0;
        lockupOf[msg.sender] += amount;
        emit UnbondingCanceled(msg.sender, amount);
    }

    function claim() external {
        uint256 amount = unbondingOf[msg.sender];
        require(amount > 0, "NothingUnbonding");
        require(block.timestamp >= unbondingTimestamp[msg.sender], "UnbondingNotElapsed");
        unbondingOf[msg.sender] = 0;
        unbondingTimestamp[msg.sender] = 0;
        balanceOf[msg.sender] += amount;
        emit Claimed(msg.sender, amount);
    }

    // ---- views ----

    function getBalanceOf(address account) external view returns (uint256) {
        return balanceOf[account];
    }

    function getLockupOf(address account) external view returns (uint256) {
        return lockupOf[account];
    }

    function isEligible(address account) external view returns (bool) {
        return isWhitelisted[account]
            || (sanctionOf[account] == 0 && lockupOf[account] >= MIN_LOCKUP_PER_SOURCE);
    }

    // ---- protocol (Nexus, Controller, Terminal) ----

    /// Terminal.announceProvider forwards the master's funds to the provider's lockup.
    function depositLockup(address account) external payable {
        require(msg.sender == terminal, "NotTerminal");
        lockupOf[account] += msg.value;
        emit Deposited(account, msg.value);
        emit Locked(account, msg.value);
    }

    function freezePayment(address client, address task, uint256 amount) external onlyProtocol {
        require(_payerOf[task] == address(0), "AlreadyEscrowed");
        require(balanceOf[client] >= amount, "InsufficientBalance");
        balanceOf[client] -= amount;
        frozenPayment[client] += amount;
        _payerOf[task] = client;
        _escrowOf[task] = amount;
    }

    function releasePayment(address client, address task) external onlyProtocol {
        _refund(client, task);
    }

    function forceReleasePayment(address client, address task) external onlyAdmin {
        _refund(client, task);
    }

    /// Pays `amount` of the task's escrow to the provider; any rest returns to the client.
    function processPayment(address client, address provider, address task, uint256 amount)
        external
        onlyProtocol
    {
        uint256 escrow = _takeEscrow(client, task);
        require(amount <= escrow, "InsufficientBalance");
        balanceOf[provider] += amount;
        totalEarningsOf[provider] += amount;
        balanceOf[client] += escrow - amount;
    }

    // ---- admin ----

    function sanction(address account, uint256 amount) external onlyAdmin {
        require(lockupOf[account] >= amount, "InsufficientLockup");
        lockupOf[account] -= amount;
        sanctionOf[account] += amount;
        sanctionedAmount += amount;
        emit Sanctioned(account, amount);
    }

    function waive(address account, uint256 amount) external onlyAdmin {
        require(sanctionOf[account] >= amount, "InsufficientSanction");
        sanctionOf[account] -= amount;
        sanctionedAmount -= amount;
        lockupOf[account] += amount;
        emit Waived(account, amount);
    }

    /// Sends the account's sanctioned funds to the calling admin.
    function withdrawSanctionOf(address account) external onlyAdmin {
        uint256 amount = sanctionOf[account];
        require(amount > 0, "ZeroAmount");
        sanctionOf[account] = 0;
        sanctionedAmount -= amount;
        _send(msg.sender, amount);
        emit Withdrawn(account, amount);
    }

    /// Pays the account's liquid, locked and unbonding funds back to it.
    function emergencyExit(address account) external onlyAdmin {
        uint256 amount = balanceOf[account] + lockupOf[account] + unbondingOf[account];
        require(amount > 0, "ZeroAmount");
        balanceOf[account] = 0;
        lockupOf[account] = 0;
        unbondingOf[account] = 0;
        unbondingTimestamp[account] = 0;
        _send(account, amount);
        emit Withdrawn(account, amount);
    }

    function setWhitelist(address account, bool value) external onlyAdmin {
        isWhitelisted[account] = value;
    }

    function setMinLockupPerSource(uint256 amount) external onlyAdmin {
        MIN_LOCKUP_PER_SOURCE = amount;
    }

    function setMaxUnbondingPeriod(uint256 period) external onlyAdmin {
        UNBONDING_PERIOD = period;
    }

    function setTerminal(address _terminal) external onlyAdmin {
        terminal = _terminal;
    }

    // ---- internal ----

    function _takeEscrow(address client, address task) private returns (uint256 escrow) {
        require(client != address(0) && _payerOf[task] == client, "NotEscrowed");
        escrow = _escrowOf[task];
        delete _payerOf[task];
        delete _escrowOf[task];
        frozenPayment[client] -= escrow;
    }

    function _refund(address client, address task) private {
        uint256 escrow = _takeEscrow(client, task);
        balanceOf[client] += escrow;
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        require(ok, "TransferFailed");
    }
}
